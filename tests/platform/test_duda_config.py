"""The ``duda`` kind's block of reconciler.yaml (DESIGN.md section 9), checked by
``validate`` at file:line like any file, and its credentials from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.platform.duda import DudaConfig, credentials, duda_platform
from reconciler.platform.kinds import PlatformBlock, SecretMissing, factory_of
from support.repo import EXPERT, Repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.site("acme-bakery", "id: acme-bakery\nowner: expert\n")
    return repo


def config(repo: Repo, block: str) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  kind: duda\n{block}")


def test_a_valid_block_validates_without_credentials_in_the_environment(repo: Repo) -> None:
    config(repo, "  rate_limit: 8\n  roles: {viewer: [STATS_TAB]}\n  plans: {free: 1}\n")

    result = repo.validate()

    assert result.exit_code == 0, result.output


def test_every_problem_of_the_block_is_reported_at_its_line(repo: Repo) -> None:
    config(
        repo,
        "  url: https://api.duda.co/api\n"
        "  rate_limit: 11\n"
        "  roles:\n"
        "    viewer: []\n"
        "    owner: [EDIT]\n"
        "  token_env: DUDA_TOKEN\n",
    )

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "reconciler.yaml:5:15: error: platform.rate_limit: must be from 1 to 10 requests a "
        "second, not 11 (Duda's hard limit is 10; it recommends 8 for batch jobs)",
        "reconciler.yaml:7:13: error: platform.roles.viewer: a role must be mapped to at least "
        "one permission name (or `all`); an empty set grants nothing on Duda, or everything "
        "on older editions",
        "reconciler.yaml:8:5: error: unknown key 'platform.roles.owner'; check the spelling "
        "(allowed: viewer, editor, admin)",
        "reconciler.yaml:9:3: error: unknown key 'platform.token_env'; check the spelling "
        "(allowed: url, user_env, password_env, rate_limit, roles, plans)",
        "4 errors in 1 file",
    ]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("  rate_limit: 0.5\n", "platform.rate_limit: must be from 1 to 10"),
        ("  url: http://api.duda.co/api\n", "refusing to send the API password over plain http"),
        ("  user_env: 1BAD\n", "platform.user_env: '1BAD' is not an environment variable name"),
        ("  plans: {gold: 2}\n", "'gold' is not allowed; use 'free' or 'premium'"),
        ("  plans: {free: 1, premium: 1}\n", "two packages map to the same Duda planId"),
        ("  plans: {}\n", "map at least one package to a Duda planId, or leave plans out"),
        ("  roles: {editor: all}\n", "two roles have the same permissions"),
        ("  url: https://user:pw@api.duda.co/api\n", "holds a user name or password"),
    ],
)
def test_bad_values_are_validation_errors(repo: Repo, block: str, expected: str) -> None:
    config(repo, block)

    result = repo.validate()

    assert result.exit_code == 1
    assert expected in result.stdout
    assert "reconciler.yaml:" in result.stdout


def test_the_credentials_come_from_the_variables_the_block_names() -> None:
    settings = DudaConfig(user_env="MY_USER", password_env="MY_PASS")

    assert credentials(settings, {"MY_USER": "api-user", "MY_PASS": " s3cret\n"}) == (
        "api-user",
        "s3cret",
    )
    with pytest.raises(SecretMissing) as raised:
        credentials(settings, {"MY_USER": "api-user", "DUDA_API_PASS": "s3cret"})
    assert "MY_PASS is not set" in raised.value.message
    assert "s3cret" not in raised.value.message
    assert "api-user" not in raised.value.message


def test_the_kind_is_built_in_and_its_factory_makes_no_request() -> None:
    block = PlatformBlock.of("duda", {"url": "https://api-sandbox.duda.co/api"})

    environ = {"DUDA_API_USER": "api-user-1", "DUDA_API_PASS": "pass-2"}
    platform = duda_platform(block, environ)

    assert factory_of("duda") is duda_platform
    assert platform.url == "https://api-sandbox.duda.co/api"
    assert platform.settings.rate_limit == 8
    assert "pass-2" not in repr(platform)
    assert "pass-2" not in repr(platform.client)
    assert "pass-2" not in repr(vars(platform.client))
    platform.close()
