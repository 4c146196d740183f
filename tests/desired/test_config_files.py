"""reconciler.yaml and people.yaml: missing, broken or wrong, always a clear message."""

from __future__ import annotations

import pytest
from desired_support import Repo

CONFIG_KEYS = "check the spelling (allowed: expert, platform, policy)"


def test_without_reconciler_yaml_validate_says_where_it_looked(bare_repo: Repo) -> None:
    bare_repo.site("a", "id: a\nowner: expert\n")

    result = bare_repo.validate()

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: no reconciler.yaml in {bare_repo.root}; run reconciler in the repository or "
        "a folder of it (reconciler.yaml is looked for up to the git work tree's top), pass "
        "--root DIR, or create one with `reconciler init`\n"
    )


def test_a_root_that_does_not_exist_is_named_as_such(bare_repo: Repo) -> None:
    missing = bare_repo.root / "no-such-folder"

    result = bare_repo.run("validate", "--root", str(missing))

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: there is no folder {missing}; --root, -C and RECONCILER_ROOT name the "
        "repository holding reconciler.yaml\n"
    )


def test_a_folder_named_reconciler_yaml_is_not_a_configuration(bare_repo: Repo) -> None:
    (bare_repo.root / "reconciler.yaml").mkdir()

    result = bare_repo.validate()

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no reconciler.yaml in ")


INVALID_CONFIGS = {
    "bad expert e-mail": (
        "expert: studio@pixel\n",
        [
            "reconciler.yaml:1:9: error: expert: 'studio@pixel' is not a valid e-mail address: "
            "the domain needs a dot, like example.com"
        ],
    ),
    "no expert": (
        "policy:\n  max_handovers: 1\n",
        ["reconciler.yaml:1:1: error: missing required key 'expert'"],
    ),
    "unknown keys at every level": (
        "expert: studio@pixel.example\nexperts: x\nplatform:\n  url: https://p.example\n"
        "  token: abc\npolicy:\n  max_removal: 1\n",
        [
            f"reconciler.yaml:2:1: error: unknown key 'experts'; {CONFIG_KEYS}",
            "reconciler.yaml:5:3: error: unknown key 'platform.token'; check the spelling "
            "(allowed: url, token_env)",
            "reconciler.yaml:7:3: error: unknown key 'policy.max_removal'; check the spelling "
            "(allowed: max_handovers, max_removals, require_approval, approvals)",
        ],
    ),
    "bad platform url and token variable": (
        "expert: studio@pixel.example\nplatform:\n  url: platform.example/api\n"
        "  token_env: PLATFORM-TOKEN\n",
        [
            "reconciler.yaml:3:8: error: platform.url: 'platform.example/api' is not an "
            "http(s) URL",
            "reconciler.yaml:4:14: error: platform.token_env: 'PLATFORM-TOKEN' is not an "
            "environment variable name",
        ],
    ),
    "platform without url": (
        "expert: studio@pixel.example\nplatform:\n  token_env: TOKEN\n",
        ["reconciler.yaml:3:3: error: missing required key 'platform.url'"],
    ),
    "negative policy limit": (
        "expert: studio@pixel.example\npolicy:\n  max_handovers: -1\n",
        ["reconciler.yaml:3:18: error: policy.max_handovers: must be 0 or more, not -1"],
    ),
    "policy not a mapping": (
        "expert: studio@pixel.example\npolicy: 3\n",
        ["reconciler.yaml:2:9: error: policy: must be a mapping, not 3"],
    ),
    "empty file": ("", ["reconciler.yaml:1:1: error: is empty; it must hold a YAML mapping"]),
    "a list": (
        "- expert: studio@pixel.example\n",
        ["reconciler.yaml:1:1: error: must hold a YAML mapping (key: value), not a list"],
    ),
    "a syntax error": (
        "expert: studio@pixel.example\n policy: {\n",
        [
            "reconciler.yaml:2:8: error: YAML syntax error: mapping values are not allowed "
            "here; check the indentation and quoting here"
        ],
    ),
}


@pytest.mark.parametrize(("text", "expected"), INVALID_CONFIGS.values(), ids=INVALID_CONFIGS.keys())
def test_an_invalid_reconciler_yaml_is_reported_at_its_line(
    repo: Repo, text: str, expected: list[str]
) -> None:
    repo.write("reconciler.yaml", text)
    repo.site("a", "id: a\nowner: expert\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[:-1] == expected


def test_site_files_are_still_checked_without_a_usable_configuration(repo: Repo) -> None:
    repo.write("reconciler.yaml", "expert: nobody\n")
    repo.site("a", "id: b\nowner: expert\ncolour: red\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "reconciler.yaml:1:9: error: expert: 'nobody' is not a valid e-mail address",
        "sites/a.yaml:1:5: error: id 'b' differs from the file name 'a'; rename the file to "
        "b.yaml or change the id",
        "sites/a.yaml:3:1: error: unknown key 'colour'; check the spelling (allowed: id, name, "
        "owner, billing_contact, collaborators, package, ask_again_after)",
        "3 errors in 2 files",
    ]


def test_a_full_configuration_is_valid(repo: Repo) -> None:
    repo.write(
        "reconciler.yaml",
        """\
        expert: Studio@Pixel.example      # the expert account
        platform:
          url: https://platform.example/api/
          token_env: PLATFORM_TOKEN
        policy:
          max_handovers: 0
          max_removals: 20
        """,
    )
    repo.site("a", "id: a\nowner: studio@pixel.example\n")

    assert repo.validate().lines == ["1 site file valid"]


def test_people_yaml_is_optional(repo: Repo) -> None:
    (repo.root / "people.yaml").unlink()
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n")

    result = repo.validate()

    assert result.lines == [
        "sites/a.yaml:4:3: error: unknown handle 'tom'; add it to people.yaml or write an "
        "e-mail address",
        "1 error in 1 file",
    ]


def test_people_yaml_problems_are_reported_and_good_handles_still_work(repo: Repo) -> None:
    repo.write(
        "people.yaml",
        """\
        Tom:
          email: tom@freelance.example
        ann:
          email: nope
        bob: bob@x.example
        carl:
          email: carl@x.example
          phone: 1
        dan:
        eve:
          email: eve@x.example
        eve:
          email: eve2@x.example
        """,
    )
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  eve: viewer\n  ann: editor\n")

    result = repo.validate()

    assert result.lines == [
        "people.yaml:1:1: error: handle 'Tom' must start with a lower-case letter and use only "
        "a-z, 0-9, '.', '_' and '-'",
        "people.yaml:4:10: error: ann.email: 'nope' is not a valid e-mail address",
        "people.yaml:5:6: error: bob: must be a mapping, not 'bob@x.example'",
        "people.yaml:8:3: error: unknown key 'carl.phone'; check the spelling "
        "(allowed: email, name, left)",
        "people.yaml:9:5: error: dan: must be a mapping, not empty",
        "people.yaml:12:1: error: duplicate key 'eve' (first at line 10); keep one of them",
        "sites/a.yaml:5:3: error: unknown handle 'ann'; add it to people.yaml or write an "
        "e-mail address",
        "7 errors in 2 files",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- tom\n", "people.yaml:1:1: error: must hold a YAML mapping (key: value), not a list"),
        (b"\xff\xfe", "people.yaml:1:1: error: is not UTF-8 text (invalid start byte at byte 0)"),
        ("tom: [\n", "people.yaml:2:1: error: YAML syntax error: "),
    ],
    ids=["a list", "not UTF-8", "a syntax error"],
)
def test_a_broken_people_yaml_is_one_problem(
    repo: Repo, content: str | bytes, expected: str
) -> None:
    repo.write("people.yaml", content)

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0].startswith(expected)
    assert result.lines[-1] == "1 error in 1 file"


CREDENTIALS = "holds a user name or password; the token comes from the variable token_env "
CREDENTIALS += "names, never from the URL: remove the part before @"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://admin:pw-s3cret@127.0.0.1:9000", f"'http://***@127.0.0.1:9000' {CREDENTIALS}"),
        ("https://admin@platform.example/api", f"'https://***@platform.example/api' {CREDENTIALS}"),
        ("https://:pw-s3cret@platform.example", f"'https://***@platform.example' {CREDENTIALS}"),
        ("ftp://admin:pw-s3cret@127.0.0.1", "'ftp://***@127.0.0.1' is not an http(s) URL"),
        # characters that end the authority before the @ hide the password from urlsplit
        ("https://admin:s3cret#@platform.example", f"'https://***@platform.example' {CREDENTIALS}"),
        ("https://admin:s3/cret@platform.example", f"'https://***@platform.example' {CREDENTIALS}"),
        ("https://admin:s3?cret@platform.example", f"'https://***@platform.example' {CREDENTIALS}"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_credentials_in_the_platform_url_are_refused_and_never_shown(
    repo: Repo, url: str, expected: str, command: str
) -> None:
    repo.write("reconciler.yaml", f"expert: studio@pixel.example\nplatform:\n  url: {url}\n")

    result = repo.run(command)

    assert result.exit_code == 1
    assert f"reconciler.yaml:3:8: error: platform.url: {expected}" in result.stdout + result.stderr
    assert "s3cret" not in result.stdout + result.stderr
