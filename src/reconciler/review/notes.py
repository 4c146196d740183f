"""The machine-readable line that starts each block of an apply's git note (pure).

DESIGN.md section 8: a note holds one block per run (this run, and the journal of a
killed run it recovers), each starting with

    reconciler-apply v1 commit=<sha> scope=all|since-last-apply|sites|changed-since
        finished=true|false failed=<n> held=<n>

(one line). ``--since-last-apply`` starts from the newest first-parent commit with a
*complete* block: scope all or since-last-apply, finished, nothing failed or held.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.reconcile.plan import ScopeKind

PREFIX = "reconciler-apply v1 "
_LINE = re.compile(
    r"^reconciler-apply v1 commit=(?P<commit>[0-9a-f]{4,64}) "
    r"scope=(?P<scope>all|since-last-apply|sites|changed-since) "
    r"finished=(?P<finished>true|false) failed=(?P<failed>\d+) held=(?P<held>\d+)$"
)
_BASE_SCOPES = frozenset({ScopeKind.ALL, ScopeKind.SINCE_LAST_APPLY})


@dataclass(frozen=True)
class ApplyBlock:
    """What one run says of itself in the first line of its block."""

    commit: str
    scope: ScopeKind
    finished: bool
    failed: int
    held: int

    def line(self) -> str:
        return (
            f"{PREFIX}commit={self.commit} scope={self.scope.value} "
            f"finished={str(self.finished).lower()} failed={self.failed} held={self.held}"
        )

    @property
    def complete(self) -> bool:
        """A run that left nothing behind of a scope that covers every pending merge."""
        return self.scope in _BASE_SCOPES and self.finished and self.failed == 0 and self.held == 0


def parse_line(line: str) -> ApplyBlock | None:
    """The block line, or None for any other line (an older version's note has none)."""
    found = _LINE.match(line.strip())
    if found is None:
        return None
    return ApplyBlock(
        commit=found["commit"],
        scope=ScopeKind(found["scope"]),
        finished=found["finished"] == "true",
        failed=int(found["failed"]),
        held=int(found["held"]),
    )


def blocks(note: str) -> Iterator[ApplyBlock]:
    """Every block line of a note, in order."""
    for line in note.splitlines():
        block = parse_line(line)
        if block is not None:
            yield block


def has_complete_block(note: str) -> bool:
    return any(block.complete for block in blocks(note))
