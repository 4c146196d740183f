"""``fmt``: site files rewritten in one canonical layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.writer import format_files


@dataclass(frozen=True)
class Formatting:
    """The files that change (or would, with ``check``) and those that could not be read."""

    changed: list[str]
    unreadable: list[str]
    check: bool

    @property
    def ok(self) -> bool:
        return not (self.check and self.changed) and not self.unreadable


@dataclass(frozen=True)
class FormatOperation:
    root: Path
    check: bool = False

    def run(self) -> Formatting:
        changed, unreadable = format_files(self.root, check=self.check)
        return Formatting(changed, unreadable, self.check)
