"""Platform kinds are plugins (DESIGN.md section 4): `kind:` in reconciler.yaml's platform
block names an entry point of the group `reconciler.platforms`, whose factory checks the
block (errors at file:line) and makes the platform that every command then uses."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from reconciler.platform import kinds
from reconciler.platform.kinds import BUILT_IN, ENTRY_POINT_GROUP, PlatformBlock, factory_of
from reconciler.platform.reconciler import ReconcilerPlatform
from support.plugins import install_kind
from support.repo import EXPERT, Repo

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
INSTALLED = (
    "installed: duda, listing, reconciler; a package adds one with an entry point in the group "
    "reconciler.platforms"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A repository, and the kind ``listing`` installed as a third party's package."""
    install_kind(monkeypatch, tmp_path / "site-packages", "listing")
    repo = Repo(tmp_path / "repo", {"NO_COLOR": "1"})
    repo.write("sites/demo-site.yaml", "id: demo-site\nowner: expert\n")
    return repo


def test_an_unknown_kind_is_a_validation_error_at_its_line_that_lists_the_installed_kinds(
    repo: Repo,
) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  kind: nope\n  url: x\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        f"reconciler.yaml:3:9: error: platform.kind: 'nope' is not an installed platform kind "
        f"({INSTALLED})",
        "1 error in 1 file",
    ]


def test_plan_with_an_unknown_kind_says_the_same_and_exits_1(repo: Repo) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  kind: nope\n")

    result = repo.run("plan")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"reconciler.yaml:3:9: error: platform.kind: 'nope' is not an installed platform "
        f"kind ({INSTALLED})"
    )


def test_a_kind_from_a_third_party_distribution_is_used_by_plan(repo: Repo) -> None:
    repo.write(
        "reconciler.yaml",
        f"""\
        expert: {EXPERT}
        platform:
          kind: listing
          owner: {EXPERT}
          sites: [demo-site, old-shop]
        """,
    )
    repo.write(
        "sites/demo-site.yaml",
        "id: demo-site\nowner: expert\ncollaborators:\n  tom@freelance.example: viewer\n",
    )

    result = repo.run("plan", "--format", "json")

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["changes"] == []  # the platform has no collaborator writes
    notes = [(n["site"], n["kind"], n.get("code")) for n in plan["notes"]]
    assert notes == [
        ("(platform)", "info", "platform.no_identity"),
        ("(platform)", "info", "platform.no_clock"),
        ("(platform)", "info", "platform.no_preflight"),
        ("(platform)", "info", "platform.no_transfer_memory"),
        ("demo-site", "blocked", None),
        ("old-shop", "unmanaged", None),
    ]
    blocked = plan["notes"][4]["message"]
    assert blocked == (
        "this platform's API has no collaborators writes: collaborator.add "
        "(tom@freelance.example) must be done by hand on the platform"
    )


def test_a_factorys_refusal_names_the_key_and_validate_reports_it_at_its_line(
    repo: Repo,
) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  kind: listing\n  sites: all\n")

    validated = repo.validate()
    planned = repo.run("plan")

    problem = "reconciler.yaml:4:10: error: platform.sites: must be a list of site ids"
    assert validated.lines == [problem, "1 error in 1 file"]
    assert planned.exit_code == 1
    assert planned.stderr.splitlines()[0] == problem


def test_a_kind_name_that_cannot_be_one_is_refused_at_its_line(repo: Repo) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  kind: [a]\n")

    assert repo.validate().lines == [
        "reconciler.yaml:3:9: error: platform.kind: a list is not a platform kind's name "
        "(lower-case letters, digits, - and _)",
        "1 error in 1 file",
    ]


def test_a_platform_block_that_is_not_a_mapping_is_refused_at_its_line(repo: Repo) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform: https://platform.example\n")

    assert repo.validate().lines == [
        "reconciler.yaml:2:11: error: platform: must be a mapping, not 'https://platform.example'",
        "1 error in 1 file",
    ]


def test_the_built_in_kinds_are_found_without_scanning_the_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_scan() -> list[object]:
        raise AssertionError("the entry points were scanned for a built-in kind")

    monkeypatch.setattr(kinds, "_entry_points", no_scan)
    block = PlatformBlock.of("reconciler", {"url": "https://platform.example/api"})

    platform = factory_of("reconciler")(block, {"PLATFORM_TOKEN": "t0ken"})

    assert isinstance(platform, ReconcilerPlatform)
    assert platform.url == "https://platform.example/api"


def test_the_built_in_kinds_are_declared_as_entry_points_too() -> None:
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["entry-points"]

    assert declared[ENTRY_POINT_GROUP] == dict(BUILT_IN)


def test_a_missing_token_is_no_problem_of_the_files_but_plan_says_which_variable(
    repo: Repo,
) -> None:
    repo.write(
        "reconciler.yaml",
        f"expert: {EXPERT}\nplatform:\n  url: https://platform.example/api\n"
        "  token_env: KIND_TEST_TOKEN\n",
    )

    validated = repo.validate()
    planned = repo.run("plan")

    assert validated.exit_code == 0, validated.output
    assert planned.exit_code == 1
    assert planned.stderr == (
        "error: the environment variable KIND_TEST_TOKEN is not set; it must hold the API "
        "token for https://platform.example/api (see platform.token_env in reconciler.yaml)\n"
    )


def test_plain_http_to_another_machine_is_refused_at_the_url_by_validate(repo: Repo) -> None:
    repo.write("reconciler.yaml", f"expert: {EXPERT}\nplatform:\n  url: http://platform.example\n")

    assert repo.validate().lines == [
        "reconciler.yaml:3:8: error: platform.url: refusing to send the API token over plain "
        "http to platform.example; use an https:// URL (plain http is only allowed for "
        "localhost, 127.0.0.1 and ::1)",
        "1 error in 1 file",
    ]
