"""A killed apply leaves a record: its journal, then a git note.

``reconciler apply`` runs as a real subprocess against the sandbox served on 127.0.0.1,
through a proxy that lets its first write through and holds the second; it is killed
with SIGKILL then, so it did exactly one change however fast or busy the machine is.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from git_support import GitRepo
from held_writes import Gate, holding_proxy

from reconciler.cli import cli
from reconciler.review.gitrepo import NOTES_REF
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.server import ThreadedSandbox

EXAMPLE = Path(__file__).resolve().parents[2]
JOURNAL = Path(".reconciler") / "apply-journal.txt"
STARTUP = 100
"""Seconds to wait for the child to start, plan and reach its second write (the test's
own timeout is 120 s)."""


@dataclass
class HeldRepo:
    """The example repository, committed, whose platform holds every write after the first."""

    repo: GitRepo
    gate: Gate


@pytest.fixture
def held_repo(tmp_path: Path) -> Iterator[HeldRepo]:
    with (
        ThreadedSandbox(tmp_path / "platform.db") as platform,
        holding_proxy(platform.url) as (url, gate),
    ):
        seed_file(platform.store, EXAMPLE / "sandbox.seed.yaml")
        repo = GitRepo(tmp_path / "repo")
        shutil.copytree(EXAMPLE / "sites", repo.root / "sites")
        shutil.copy(EXAMPLE / "people.yaml", repo.root / "people.yaml")
        repo.write(".gitignore", ".reconciler/\n")
        repo.write(
            "reconciler.yaml",
            f"expert: studio@pixel.example\nplatform:\n  url: {url}\n  token_env: SANDBOX_TOKEN\n",
        )
        repo.commit("Manage the example sites")
        yield HeldRepo(repo, gate)


def _environ() -> dict[str, str]:
    return {**os.environ, "SANDBOX_TOKEN": "studio-token", "NO_COLOR": "1"}


def _kill_after_first_change(held: HeldRepo) -> str:
    """Start ``apply --yes --parallelism 1``; SIGKILL it while its second write is held
    (the first is done and journaled: one change at a time), then let writes through."""
    repo = held.repo
    command = [sys.executable, "-m", "reconciler", "--root", str(repo.root)]
    child = subprocess.Popen(
        [*command, "apply", "--yes", "--parallelism", "1"],
        env=_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ready = time.monotonic() + STARTUP  # a bound on waiting, not on the apply's speed
    while not held.gate.first_held.wait(0.05):
        assert child.poll() is None, "apply ended before it could be killed"
        assert time.monotonic() < ready, f"apply sent no second write within {STARTUP} s"
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    held.gate.release()  # the held write is dropped, never forwarded: the platform saw one
    return (repo.root / JOURNAL).read_text()


def _run(repo: GitRepo, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(repo.root), *args], env=_environ(), catch_exceptions=False
    )


def _done_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("done ")]


def test_the_next_apply_notes_what_a_killed_apply_did(held_repo: HeldRepo) -> None:
    repo = held_repo.repo
    journal = _kill_after_first_change(held_repo)

    killed_did = _done_lines(journal)
    head = repo.head()
    started = f"reconciler-apply v1 commit={head} scope=all finished=false failed=0 held=5\n"
    assert journal.startswith(started + "reconciler apply at ")
    assert "did not finish; from its journal:\nplan " in journal
    assert len(killed_did) == 1  # the first of the plan's 5 changes, not the held second
    assert repo.git("notes", "--ref", NOTES_REF, "list") == ""  # no note yet
    shown = _run(repo, "journal")
    assert shown.exit_code == 0
    # Recovered, its block line counts what its lines show: one done, four not attempted.
    recovered = journal.strip().replace("held=5", "held=4", 1)
    assert shown.output.strip() == recovered

    finished = _run(repo, "apply", "--yes")

    assert finished.exit_code == 0, finished.output
    note = repo.git("notes", "--ref", NOTES_REF, "show", "HEAD")
    earlier, _, this_run = note.partition("\n\nreconciler-apply v1 ")
    assert earlier == recovered
    assert this_run.startswith(f"commit={head} scope=all finished=true failed=0 held=0\n")
    assert "Apply: " in this_run
    # Together the two runs did the plan's five changes, each once.
    assert len(killed_did) + len(_done_lines(this_run)) == 5
    assert not (repo.root / JOURNAL).exists()
    assert _run(repo, "plan", "--detailed-exitcode").exit_code == 0


def test_the_journal_is_recorded_on_its_own_as_ci_does_after_a_failed_apply(
    held_repo: HeldRepo,
) -> None:
    repo = held_repo.repo
    journal = _kill_after_first_change(held_repo)

    recorded = _run(repo, "journal", "--record")

    assert recorded.exit_code == 0
    assert recorded.output.endswith("Recorded as a git note on HEAD (refs/notes/reconciler).\n")
    recovered = journal.strip().replace("held=5", "held=4", 1)
    assert repo.git("notes", "--ref", NOTES_REF, "show", "HEAD") == recovered
    assert "finished=false" in recovered  # never the base of --since-last-apply
    assert _run(repo, "journal").output == "No journal left behind: every apply was recorded.\n"
