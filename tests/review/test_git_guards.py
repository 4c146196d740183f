"""apply reads exactly what is committed at HEAD, and a broken or shallow repository is
an error (exit 1, saying what to do), never an internal error or a silent pass.

Real repositories in temporary folders, a real shallow clone over file://, the CLI
through click, the embedded sandbox as the platform.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from git_support import GitRepo

from reconciler.cli import cli

SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
sites:
  - {id: acme-bakery, name: ACME, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free, collaborators: {}}
"""


@pytest.fixture
def committed(tmp_path: Path) -> GitRepo:
    """One managed site in sync with the sandbox, all committed."""
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    made.write("sandbox.seed.yaml", SEED)
    made.site("acme-bakery", collaborators={})
    made.commit("Manage ACME")
    return made


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], env={"NO_COLOR": "1"})


def assert_refused(result: Result, *paths: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        f"error: uncommitted changes to the desired state ({', '.join(paths)}): apply what "
        "is committed, so that git shows what was applied; commit them, or pass --allow-dirty"
    )
    assert "Apply:" not in result.output


# -- item 8: a shallow clone --


def test_changed_since_in_a_shallow_clone_says_to_fetch_the_history(
    committed: GitRepo, tmp_path: Path
) -> None:
    committed.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    committed.commit("Hand ACME over")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{committed.root}", str(clone)],
        check=True,
        capture_output=True,
    )

    result = run(clone, "plan", "--changed-since", "HEAD~1")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: the clone has no history before HEAD; fetch with fetch-depth: 0 (in "
        "actions/checkout), or `git fetch --unshallow`"
    )


def test_history_in_a_shallow_clone_says_to_fetch_the_history(
    committed: GitRepo, tmp_path: Path
) -> None:
    committed.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    committed.commit("Hand ACME over")
    committed.site("acme-bakery", "anna@acme-bakery.example", collaborators={"tom": "viewer"})
    committed.commit("Tom previews")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{committed.root}", str(clone)],
        check=True,
        capture_output=True,
    )

    result = run(clone, "history", "acme-bakery")

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: the clone has no history before HEAD; fetch with fetch-depth: 0 (in "
        "actions/checkout), or `git fetch --unshallow`"
    )


# -- item 10: exactly what HEAD holds --


def test_a_site_file_ignored_by_git_is_not_applied(committed: GitRepo) -> None:
    committed.write("sites/.gitignore", "secret-*.yaml\n")
    committed.commit("Ignore secret sites")
    committed.site("secret-shop", collaborators={})

    assert_refused(run(committed.root, "apply", "--yes"), "sites/secret-shop.yaml")


def test_a_file_under_skip_worktree_is_not_applied(committed: GitRepo) -> None:
    committed.git("update-index", "--skip-worktree", "sites/acme-bakery.yaml")
    committed.site("acme-bakery", "anna@acme-bakery.example", collaborators={})

    assert_refused(run(committed.root, "apply", "--yes"), "sites/acme-bakery.yaml")


def test_a_file_under_assume_unchanged_is_not_applied(committed: GitRepo) -> None:
    committed.git("update-index", "--assume-unchanged", "sites/acme-bakery.yaml")
    committed.site("acme-bakery", "anna@acme-bakery.example", collaborators={})

    assert_refused(run(committed.root, "apply", "--yes"), "sites/acme-bakery.yaml")


def test_a_repository_without_commits_applies_nothing_staged(tmp_path: Path) -> None:
    fresh = GitRepo(tmp_path / "fresh")
    fresh.write("reconciler.yaml", "expert: studio@pixel.example\n")
    fresh.site("acme-bakery", collaborators={})
    fresh.git("add", "reconciler.yaml", "sites/acme-bakery.yaml")

    assert_refused(run(fresh.root, "apply", "--yes"), "reconciler.yaml", "sites/acme-bakery.yaml")


def test_allow_dirty_still_applies_what_is_on_disk(committed: GitRepo) -> None:
    committed.git("update-index", "--skip-worktree", "sites/acme-bakery.yaml")
    committed.site("acme-bakery", collaborators={"tom@freelance.example": "viewer"})

    result = run(committed.root, "apply", "--yes", "--allow-dirty")

    assert result.exit_code == 0, result.output
    assert "collaborator.add" in result.output


def test_a_corrupt_head_is_an_error_not_a_missing_repository(committed: GitRepo) -> None:
    (committed.root / ".git" / "HEAD").write_text("garbage\n")

    result = run(committed.root, "apply", "--yes")

    assert result.exit_code == 1
    assert "not in a git repository" not in result.output
    assert result.stderr.splitlines()[-1].startswith(
        f"error: the git repository at {committed.root} is broken ("
    )
    assert result.stderr.splitlines()[-1].endswith("); repair it (`git status` shows how)")


def test_history_reads_no_past_version_larger_than_the_file_limit(committed: GitRepo) -> None:
    committed.write("sites/acme-bakery.yaml", "id: acme-bakery\nowner: expert\nname: " + "x" * 3000)
    committed.commit("A very long name")

    result = CliRunner().invoke(
        cli,
        ["--root", str(committed.root), "history", "acme-bakery"],
        env={"NO_COLOR": "1", "RECONCILER_MAX_FILE_BYTES": "2000"},
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        "    A very long name",
        "    - file not readable as a site in this commit",
    ]


# -- a linked sites folder: its files change outside the paths git status looks at --


def test_a_sites_folder_linked_inside_the_repository_applies_nothing(tmp_path: Path) -> None:
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    made.write("sandbox.seed.yaml", SEED)
    made.write("real_sites/acme-bakery.yaml", "id: acme-bakery\nowner: expert\ncollaborators: {}\n")
    (made.root / "sites").symlink_to("real_sites")
    made.commit("Manage ACME through a linked folder")
    made.write(  # uncommitted, and git status -- sites would not see it
        "real_sites/acme-bakery.yaml",
        "id: acme-bakery\nowner: expert\ncollaborators: {eve@evil.example: admin}\n",
    )

    result = run(made.root, "apply", "--yes")

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: sites is a symbolic link; the folder of site files must be the folder "
        "itself, so that every change to a site file shows in its own diff: replace the "
        "link by the folder"
    )
    assert "eve@evil.example" not in result.output
    assert "Apply:" not in result.output
