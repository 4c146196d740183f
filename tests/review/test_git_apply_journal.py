"""A killed apply leaves a record: its journal, then a git note.

``reconciler apply`` runs as a real subprocess against a slow platform (the sandbox
served on 127.0.0.1 with latency) and is killed with SIGKILL after its first change.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from git_support import GitRepo

from reconciler.cli import cli
from reconciler.review.gitrepo import NOTES_REF
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.server import EmbeddedSandbox

EXAMPLE = Path(__file__).resolve().parents[2]
JOURNAL = Path(".reconciler") / "apply-journal.txt"


@pytest.fixture
def slow_repo(tmp_path: Path) -> Iterator[GitRepo]:
    """The example repository, committed, against a platform that takes 0.6 s an answer."""
    faults = FaultSpec(latency_ms=600)
    with EmbeddedSandbox(tmp_path / "platform.db", faults=faults) as platform:
        seed_file(platform.store, EXAMPLE / "sandbox.seed.yaml")
        repo = GitRepo(tmp_path / "repo")
        shutil.copytree(EXAMPLE / "sites", repo.root / "sites")
        shutil.copy(EXAMPLE / "people.yaml", repo.root / "people.yaml")
        repo.write(".gitignore", ".reconciler/\n")
        repo.write(
            "reconciler.yaml",
            "expert: studio@pixel.example\n"
            f"platform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n",
        )
        repo.commit("Manage the example sites")
        yield repo


def _environ() -> dict[str, str]:
    return {**os.environ, "SANDBOX_TOKEN": "studio-token", "NO_COLOR": "1"}


def _kill_after_first_change(repo: GitRepo) -> str:
    """Start ``apply --yes --parallelism 1``, SIGKILL it once a change is journaled."""
    journal = repo.root / JOURNAL
    command = [sys.executable, "-m", "reconciler", "--root", str(repo.root)]
    child = subprocess.Popen(
        [*command, "apply", "--yes", "--parallelism", "1"],
        env=_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while "\ndone " not in (journal.read_text() if journal.exists() else ""):
        assert child.poll() is None, "apply ended before it could be killed"
        assert time.monotonic() < deadline, "apply journaled nothing within 60 s"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    return journal.read_text()


def _run(repo: GitRepo, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(repo.root), *args], env=_environ(), catch_exceptions=False
    )


def _done_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("done ")]


def test_the_next_apply_notes_what_a_killed_apply_did(
    slow_repo: GitRepo,
) -> None:
    repo = slow_repo
    journal = _kill_after_first_change(repo)

    killed_did = _done_lines(journal)
    assert journal.startswith("reconciler apply at ")
    assert "did not finish; from its journal:\nplan " in journal
    assert 1 <= len(killed_did) < 5  # midway: the plan has 5 changes
    assert repo.git("notes", "--ref", NOTES_REF, "list") == ""  # no note yet
    shown = _run(repo, "journal")
    assert shown.exit_code == 0
    assert shown.output.strip() == journal.strip()

    finished = _run(repo, "apply", "--yes")

    assert finished.exit_code == 0, finished.output
    note = repo.git("notes", "--ref", NOTES_REF, "show", "HEAD")
    earlier, _, this_run = note.partition("\n\nreconciler apply at ")
    assert earlier == journal.strip()
    assert "Apply: " in this_run
    # Together the two runs did the plan's five changes, each once.
    assert len(killed_did) + len(_done_lines(this_run)) == 5
    assert not (repo.root / JOURNAL).exists()
    assert _run(repo, "plan", "--detailed-exitcode").exit_code == 0


def test_the_journal_is_recorded_on_its_own_as_ci_does_after_a_failed_apply(
    slow_repo: GitRepo,
) -> None:
    repo = slow_repo
    journal = _kill_after_first_change(repo)

    recorded = _run(repo, "journal", "--record")

    assert recorded.exit_code == 0
    assert recorded.output.endswith("Recorded as a git note on HEAD (refs/notes/reconciler).\n")
    assert repo.git("notes", "--ref", NOTES_REF, "show", "HEAD") == journal.strip()
    assert _run(repo, "journal").output == "No journal left behind: every apply was recorded.\n"
