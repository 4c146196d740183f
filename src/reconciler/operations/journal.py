"""The journal of an apply: each change written down as it completes.

A run that is killed (``kill -9``, a CI job's timeout) makes no report and no git note;
what it did survives only in its journal, ``.reconciler/apply-journal.txt`` (git-ignored,
next to the embedded sandbox). The next apply's note starts with every journal left
behind, and ``reconciler journal --record`` (the apply workflow's note step, which runs
even when the apply step failed) records it on its own. Lines reach the operating
system as they are written (no buffering), so a killed process loses none; a crash of
the machine itself may.

Each run's part starts with its block line (DESIGN.md section 8); recovered, it says
``finished=false`` with the counts its lines show, so a killed run is never the base
of ``--since-last-apply``. A journal that git tracks came from a commit, not from a run
here: apply and ``journal`` refuse it (operations/apply.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from reconciler.reconcile.apply import ChangeResult
from reconciler.reconcile.plan import Plan, ScopeKind
from reconciler.render.report import result_line
from reconciler.review.notes import PREFIX, ApplyBlock, parse_line

JOURNAL = Path(".reconciler") / "apply-journal.txt"


class Journal:
    """The journal file of one repository."""

    def __init__(self, root: Path) -> None:
        self.path = root / JOURNAL
        self._lock = threading.Lock()

    def left_behind(self, commit: str | None = None) -> str:
        """What earlier runs journaled and no note has recorded ("" when nothing), each
        run's block line saying what its lines show: unfinished, failed, held.
        ``commit`` goes into the line of a part that has none (an older version's)."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""
        return "\n\n".join(_recovered(part, commit) for part in _parts(text))

    @contextmanager
    def run(
        self, plan: Plan, first_line: str = "", when: datetime | None = None
    ) -> Iterator[Callable[[ChangeResult], None]]:
        """Journal one run: yields the callback that writes down each completed change.
        ``first_line`` is the run's block line (none outside git)."""
        moment = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8", buffering=1) as out:
            if out.tell():
                out.write("\n")
            out.write(
                (f"{first_line}\n" if first_line else "")
                + f"reconciler apply at {moment} did not finish; from its journal:\n"
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


def _parts(text: str) -> list[str]:
    """The journal cut at each block line (a part before the first is kept whole)."""
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith(PREFIX) and parts[-1]:
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(part).strip() for part in parts if any(part)]


def _recovered(part: str, commit: str | None) -> str:
    """``part`` with a first line that counts what its lines show, never finished."""
    first, _, rest = part.partition("\n")
    block = parse_line(first)
    if block is None:
        if commit is None:
            return part
        block, rest = ApplyBlock(commit, ScopeKind.CHANGED_SINCE, False, 0, 0), part
    lines = rest.splitlines()
    done = sum(1 for line in lines if line.startswith("done "))
    failed = sum(1 for line in lines if line.startswith("FAILED "))
    held = max(block.held - done - failed, 0)
    counted = ApplyBlock(block.commit, block.scope, False, failed, held)
    return "\n".join(filter(None, [counted.line(), rest]))
