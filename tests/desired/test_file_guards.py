"""Files the repository holds are read only when they are inside it, small and sane.

DESIGN.md section 7: site files, people.yaml and reconciler.yaml must resolve inside the
repository; 1 MiB a file before parsing (``RECONCILER_MAX_FILE_BYTES`` raises it); the
node limit holds while the file is read, not after everything was built.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from desired_support import Repo

from reconciler.desired.loader import MAX_NODES, parse_yaml

SECRET = "PLATFORM_TOKEN=super-secret-value"
OUTSIDE = "is a link to a file outside the repository; a file the repository holds must "
OUTSIDE += "be inside it: replace the link by the file"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository holding a secret and a readable 'site file'."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / ".env").write_text(SECRET + "\n")
    (folder / "elsewhere.yaml").write_text("id: elsewhere\nowner:   Anna@Acme-Bakery.example\n")
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = Repo(root)
    repo.write("reconciler.yaml", "expert: studio@pixel.example\n")
    (root / "sites").mkdir()
    return repo


def test_a_site_file_linked_outside_is_refused_by_path(repo: Repo, outside: Path) -> None:
    (repo.root / "sites" / "passwd.yaml").symlink_to("/etc/passwd")
    (repo.root / "sites" / "env.yaml").symlink_to(outside / ".env")

    result = repo.validate("--format", "github")

    assert result.exit_code == 1
    assert result.lines == [
        f"::error file=sites/env.yaml,line=1,col=1::{OUTSIDE}",
        f"::error file=sites/passwd.yaml,line=1,col=1::{OUTSIDE}",
        "2 errors in 2 files",
    ]
    assert "super-secret" not in result.stdout + result.stderr
    assert "root:" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["people.yaml", "reconciler.yaml"])
def test_config_files_linked_outside_are_refused(repo: Repo, outside: Path, name: str) -> None:
    (repo.root / name).unlink(missing_ok=True)
    (outside / "conf.yaml").write_text("expert: studio@pixel.example\n")
    (repo.root / name).symlink_to(outside / "conf.yaml")

    result = repo.validate()

    assert result.exit_code == 1
    assert f"{name}:1:1: error: {OUTSIDE}" in result.lines


INSIDE_LINK = (
    "is a symbolic link; a file the repository holds must be the file itself, so that "
    "every change to it shows in its own diff: replace the link by the file"
)


def test_a_link_inside_the_repository_is_refused_too(repo: Repo) -> None:
    """A link's target changes without the site file's own diff: the review, the
    uncommitted-changes check and --changed-since would all look at the wrong path."""
    repo.write("shared/a.yaml", "id: a\nowner: expert\n")
    (repo.root / "sites" / "a.yaml").symlink_to(repo.root / "shared" / "a.yaml")

    result = repo.validate()

    assert result.exit_code == 1
    assert f"sites/a.yaml:1:1: error: {INSIDE_LINK}" in result.lines


def test_a_dotenv_inside_the_repository_linked_as_a_site_file_is_never_shown(
    repo: Repo,
) -> None:
    repo.write(".env", SECRET + "\n")
    (repo.root / "sites" / "x.yaml").symlink_to("../.env")

    for args in [(), ("--format", "github"), ("--format", "json")]:
        result = repo.validate(*args)

        assert result.exit_code == 1
        assert "super-secret-value" not in result.stdout + result.stderr
        assert "is a symbolic link" in result.stdout + result.stderr


def test_a_sites_folder_linked_inside_the_repository_is_refused(repo: Repo) -> None:
    (repo.root / "sites").rmdir()
    repo.write("real_sites/a.yaml", "id: a\nowner: expert\n")
    (repo.root / "sites").symlink_to("real_sites")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.stderr == (
        "error: sites is a symbolic link; the folder of site files must be the folder "
        "itself, so that every change to a site file shows in its own diff: replace the "
        "link by the folder\n"
    )


def test_a_sites_folder_linked_outside_is_refused(repo: Repo, outside: Path) -> None:
    (repo.root / "sites").rmdir()
    (repo.root / "sites").symlink_to(outside)

    result = repo.validate()

    assert result.exit_code == 1
    assert result.stderr == (
        "error: sites is a link to a folder outside the repository; the files the repository "
        "holds must be inside it: replace the link by the folder\n"
    )
    assert result.stdout == ""


def test_fmt_never_rewrites_a_file_outside(repo: Repo, outside: Path) -> None:
    target = outside / "elsewhere.yaml"
    before = target.read_text()
    (repo.root / "sites" / "elsewhere.yaml").symlink_to(target)

    result = repo.run("fmt")

    assert result.exit_code == 1
    assert target.read_text() == before
    assert f"skipped sites/elsewhere.yaml: sites/elsewhere.yaml {OUTSIDE}" in result.stderr


def test_a_symlink_loop_is_a_clear_error(repo: Repo) -> None:
    (repo.root / "sites" / "a.yaml").symlink_to("b.yaml")
    (repo.root / "sites" / "b.yaml").symlink_to("a.yaml")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "sites/a.yaml:1:1: error: is a symbolic link that loops; replace it by the file",
        "sites/b.yaml:1:1: error: is a symbolic link that loops; replace it by the file",
        "2 errors in 2 files",
    ]


def test_a_config_symlink_loop_is_a_clear_error(repo: Repo) -> None:
    (repo.root / "reconciler.yaml").unlink()
    (repo.root / "reconciler.yaml").symlink_to("reconciler.yaml")

    result = repo.validate()

    assert result.exit_code == 1
    assert "internal error" not in result.stderr
    assert "reconciler.yaml:1:1: error: is a symbolic link that loops" in result.stdout


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_configuration_linked_to_dev_zero_stops_plan_at_once(repo: Repo) -> None:
    (repo.root / "reconciler.yaml").unlink()
    (repo.root / "reconciler.yaml").symlink_to("/dev/zero")

    result = repo.run("plan")

    assert result.exit_code == 1
    assert f"reconciler.yaml:1:1: error: {OUTSIDE}" in result.stderr


def test_sites_as_a_regular_file_is_an_error(repo: Repo) -> None:
    (repo.root / "sites").rmdir()
    repo.write("sites", "id: a\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.stderr == (
        "error: sites is not a directory; site files are sites/<site-id>.yaml\n"
    )


# -- sizes and node counts --


def flow_list(megabytes: float) -> str:
    count = int(megabytes * 1_000_000) // 2
    return "id: a\nowner: expert\nname: [" + "1," * count + "1]\n"


@pytest.mark.parametrize("megabytes", [5, 10, 50])
def test_a_big_file_is_refused_before_parsing(repo: Repo, megabytes: int) -> None:
    repo.site("a", flow_list(megabytes).encode())

    tracemalloc.start()
    try:
        result = repo.validate()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:1:1: error: is larger than 1 MiB (the limit for a file the repository "
        "holds); split it, or raise the limit with RECONCILER_MAX_FILE_BYTES"
    )
    assert peak < 8_000_000  # never read, let alone parsed


def test_the_file_limit_can_be_raised(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.site("a", "id: a\nowner: expert\nname: " + "x" * 2_000_000 + "\n")
    monkeypatch.setenv("RECONCILER_MAX_FILE_BYTES", "3000000")

    assert repo.validate().lines == ["1 site file valid"]


def test_a_bad_limit_is_a_clear_error(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.site("a", "id: a\nowner: expert\n")
    monkeypatch.setenv("RECONCILER_MAX_FILE_BYTES", "lots")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.stderr == (
        "error: RECONCILER_MAX_FILE_BYTES='lots' is not a number of bytes; "
        "give a whole number such as 2097152\n"
    )


def test_too_many_values_without_aliases_are_refused_while_reading(repo: Repo) -> None:
    repo.site("a", flow_list(0.9).encode())

    result = repo.validate()

    assert result.exit_code == 1
    # The value refused is the list's item that makes one too many: the mapping, its
    # five scalars and the list came first; items start at column 8, two columns apart.
    column = 8 + 2 * (MAX_NODES + 1 - 7 - 1)
    assert result.lines[0] == (
        f"sites/a.yaml:3:{column}: error: holds more than {MAX_NODES} values; "
        "a site file holds a few"
    )
    assert "aliases" not in result.stdout


def test_the_node_limit_is_counted_before_composing() -> None:
    text = "[" + "1," * 400_000 + "1]"  # 800 kB, 400,001 values

    tracemalloc.start()
    try:
        parsed = parse_yaml(text, "big.yaml", max_nodes=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert parsed.document is None
    assert [str(p) for p in parsed.problems] == [
        "big.yaml:1:2000: error: holds more than 1000 values; a site file holds a few"
    ]
    assert peak < 2_000_000  # composed, those values would take a hundred times more


# -- plan files named on the command line --


def test_a_plan_file_nested_100000_deep_is_a_clear_error(repo: Repo) -> None:
    plan = repo.write("plan.json", "[" * 100_000)

    result = repo.run("apply", str(plan), "--allow-dirty")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {plan} is not a plan file written by `reconciler plan --out` (it nests too deeply)"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_apply_dev_zero_is_refused_by_size(repo: Repo) -> None:
    result = repo.run("apply", "/dev/zero", "--allow-dirty")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: /dev/zero is larger than 64 MiB (the limit for a plan file); "
        "raise the limit with RECONCILER_MAX_PLAN_BYTES"
    )


def test_a_big_plan_file_is_refused_before_parsing(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = repo.write("plan.json", '{"changes": [' + "1," * 600_000 + "1]}")
    monkeypatch.setenv("RECONCILER_MAX_PLAN_BYTES", "1000000")

    result = repo.run("apply", str(plan), "--allow-dirty")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {plan} is larger than 1000000 bytes (the limit for a plan file); "
        "raise the limit with RECONCILER_MAX_PLAN_BYTES"
    )
