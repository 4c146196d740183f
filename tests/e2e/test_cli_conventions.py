"""The conventions users expect of a CLI (DESIGN section 7): the root found from a
subfolder as git finds its own, ``-C``, ``--root`` anywhere, ``--no-color`` and
``NO_COLOR`` for both streams.

Discovery runs the real CLI in-process from a changed working folder; colour runs it as
a subprocess on a real pseudo-terminal, where colour would otherwise be on.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_support import Repo

from reconciler.cli import cli, hoist_global_options
from support.repo import git


def run_in(folder: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``reconciler ARGS`` started in ``folder``, with no --root."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        done = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1", **(env or {})})
    finally:
        os.chdir(previous)
    return done.exit_code, done.stdout, done.stderr


def git_repo(repo: Repo) -> Repo:
    git(repo.root, "init", "--quiet", "--initial-branch=main")
    return repo


def test_validate_from_sites_finds_the_root_as_git_does(repo: Repo) -> None:
    git_repo(repo)

    code, stdout, stderr = run_in(repo.root / "sites", "validate")

    assert (code, stdout, stderr) == (0, "5 site files valid\n", "")


def test_the_search_stops_at_the_git_work_tree_top(repo: Repo, tmp_path: Path) -> None:
    """A reconciler.yaml above the work tree belongs to something else."""
    inner = tmp_path / "elsewhere" / "nested"
    inner.mkdir(parents=True)
    git(tmp_path / "elsewhere", "init", "--quiet")

    code, _, stderr = run_in(inner, "validate")

    assert code == 1
    assert stderr.startswith(f"error: no reconciler.yaml in {inner.resolve()}; ")
    assert "looked for up to the git work tree's top" in stderr


def test_outside_a_git_work_tree_only_the_folder_itself_is_looked_at(repo: Repo) -> None:
    code, _, stderr = run_in(repo.root / "sites", "validate")

    assert code == 1
    assert stderr.startswith(f"error: no reconciler.yaml in {(repo.root / 'sites').resolve()}; ")


def test_dash_c_starts_the_search_in_another_folder(repo: Repo, tmp_path: Path) -> None:
    git_repo(repo)
    elsewhere = tmp_path.parent

    code, stdout, _ = run_in(elsewhere, "-C", str(repo.root / "sites"), "validate")
    after, stdout_after, _ = run_in(elsewhere, "validate", "-C", str(repo.root / "sites"))

    assert (code, stdout) == (0, "5 site files valid\n")
    assert (after, stdout_after) == (0, "5 site files valid\n")


@pytest.mark.parametrize(
    "args",
    [
        ("--root", "{root}", "validate"),
        ("validate", "--root", "{root}"),
        ("validate", "--root={root}"),
        ("validate", "--format", "json", "--root", "{root}"),
    ],
    ids=["before", "after", "equals", "between-options"],
)
def test_root_is_accepted_before_or_after_the_command(
    repo: Repo, tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, stdout, stderr = run_in(tmp_path.parent, *(a.format(root=repo.root) for a in args))

    assert (code, stderr) == (0, "")
    assert "5 site files valid" in stdout or '"valid": true' in stdout


def test_root_after_a_sandbox_command(repo: Repo, tmp_path: Path) -> None:
    assert repo.run("plan").exit_code == 0  # creates the embedded sandbox

    code, stdout, _ = run_in(
        tmp_path.parent, "sandbox", "account", "add", "nina@new.example", "--root", str(repo.root)
    )

    assert (code, stdout) == (0, "nina@new.example signed up (customer account)\n")


def test_the_environment_variable_names_the_root(repo: Repo, tmp_path: Path) -> None:
    code, stdout, _ = run_in(tmp_path.parent, "validate", env={"RECONCILER_ROOT": str(repo.root)})

    assert (code, stdout) == (0, "5 site files valid\n")


def test_hoisting_leaves_arguments_after_a_double_dash_alone() -> None:
    assert hoist_global_options(["import", "--", "--root"]) == ["import", "--", "--root"]
    assert hoist_global_options(["plan", "--no-color", "-C", "x"]) == [
        "--no-color",
        "-C",
        "x",
        "plan",
    ]


def on_a_terminal(root: Path, *args: str, env: dict[str, str]) -> str:
    """Everything ``reconciler ARGS`` writes to a real terminal (stdout and stderr)."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**environ, "TERM": "xterm-256color", **env},
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.fixture
def broken(repo: Repo) -> Repo:
    repo.site("broken", "id: broken\nowner: nobody-known\n")
    return repo


def test_on_a_terminal_the_error_line_is_red(broken: Repo) -> None:
    shown = on_a_terminal(broken.root, "plan", env={})

    assert "\x1b[31merror: " in shown


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("plan",), {"NO_COLOR": "1"}),
        (("plan", "--no-color"), {}),
        (("--no-color", "plan"), {}),
    ],
    ids=["NO_COLOR", "--no-color-after", "--no-color-before"],
)
def test_no_color_leaves_both_streams_plain_on_a_terminal(
    broken: Repo, args: tuple[str, ...], env: dict[str, str]
) -> None:
    shown = on_a_terminal(broken.root, *args, env=env)

    assert "error: 1 error in 1 file" in shown
    assert "\x1b[" not in shown


def test_no_color_leaves_the_plan_plain_on_a_terminal(repo: Repo) -> None:
    coloured = on_a_terminal(repo.root, "plan", env={})
    plain = on_a_terminal(repo.root, "plan", "--no-color", env={})

    assert "\x1b[" in coloured
    assert "transfer.start" in plain
    assert "\x1b[" not in plain


def test_fmt_diff_changes_nothing_and_git_apply_takes_it(repo: Repo) -> None:
    git_repo(repo)
    messy = repo.read_site("old-shop").replace("id: old-shop", "id:   old-shop")
    repo.site("old-shop", messy)

    shown = repo.run("fmt", "--diff")
    checked = repo.run("fmt", "--diff", "--check")

    assert shown.exit_code == 0
    assert shown.stdout.startswith("--- a/sites/old-shop.yaml\n+++ b/sites/old-shop.yaml\n")
    assert "-id:   old-shop\n+id: old-shop\n" in shown.stdout
    assert shown.stderr == "would reformat sites/old-shop.yaml\n"
    assert checked.exit_code == 1
    assert repo.read_site("old-shop") == messy
    (repo.root / "fix.diff").write_text(shown.stdout, encoding="utf-8")
    git(repo.root, "apply", "fix.diff")
    assert repo.run("fmt", "--check").exit_code == 0


def test_show_prints_a_saved_plan_as_plan_printed_it(repo: Repo) -> None:
    saved = str(repo.root / "plan.json")
    planned = repo.run("plan", "--out", saved)

    for output_format in ("text", "markdown"):
        shown = repo.run("show", saved, "--format", output_format)
        made = repo.run("plan", "--format", output_format)
        assert (shown.exit_code, shown.stdout) == (0, made.stdout)
    assert repo.run("show", saved).stdout == planned.stdout


def test_status_of_named_sites_only(repo: Repo) -> None:
    shown = repo.run("status", "old-shop", "bistro-verde")

    assert shown.exit_code == 0
    assert "Sites:       2 (2 managed, 0 unmanaged)" in shown.stdout
    assert "bistro-verde" in shown.stdout
    assert "old-shop" in shown.stdout
    for other in ("acme-bakery", "harbor-yoga", "legacy-landing", "pixel-studio"):
        assert other not in shown.stdout
