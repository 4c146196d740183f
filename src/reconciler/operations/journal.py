"""The journal of an apply: each change written down as it completes.

A run that is killed (``kill -9``, a CI job's timeout) makes no report and no git note;
what it did survives only in its journal, ``.reconciler/apply-journal.txt`` (git-ignored,
next to the embedded sandbox). The next apply's note starts with every journal left
behind, and ``reconciler journal --record`` (the apply workflow's note step, which runs
even when the apply step failed) records it on its own. Lines reach the operating
system as they are written (no buffering), so a killed process loses none; a crash of
the machine itself may.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from reconciler.reconcile.apply import ChangeResult
from reconciler.reconcile.plan import Plan
from reconciler.render.report import result_line

JOURNAL = Path(".reconciler") / "apply-journal.txt"


class Journal:
    """The journal file of one repository."""

    def __init__(self, root: Path) -> None:
        self.path = root / JOURNAL
        self._lock = threading.Lock()

    def left_behind(self) -> str:
        """What earlier runs journaled and no note has recorded ("" when nothing)."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    @contextmanager
    def run(
        self, plan: Plan, when: datetime | None = None
    ) -> Iterator[Callable[[ChangeResult], None]]:
        """Journal one run: yields the callback that writes down each completed change."""
        moment = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8", buffering=1) as out:
            if out.tell():
                out.write("\n")
            out.write(
                f"reconciler apply at {moment} did not finish; from its journal:\n"
                f"plan {plan.fingerprint}\n"
            )
            out.flush()

            def record(result: ChangeResult) -> None:
                with self._lock:
                    out.write(result_line(result) + "\n")
                    out.flush()

            yield record

    def replace(self, text: str) -> None:
        """Keep ``text`` (what no note could record yet) as the whole journal."""
        self.path.write_text(text + "\n", encoding="utf-8")

    def clear(self) -> None:
        """Everything journaled is recorded: start afresh."""
        self.path.unlink(missing_ok=True)
