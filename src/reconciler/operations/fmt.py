"""``fmt``: site files rewritten in one canonical layout."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.writer import Reformat, format_files


@dataclass(frozen=True)
class Formatting:
    """The files that change (or would, unless ``written``) and those that could not
    be read."""

    reformats: list[Reformat]
    unreadable: list[str]
    check: bool
    written: bool

    @property
    def changed(self) -> list[str]:
        return [reformat.path for reformat in self.reformats]

    @property
    def ok(self) -> bool:
        return not (self.check and self.reformats) and not self.unreadable

    @property
    def diff(self) -> str:
        """What fmt changes, as a unified diff from the root (``a/`` and ``b/`` paths,
        as git shows them, so that ``git apply`` takes it)."""
        return "".join(
            "".join(
                difflib.unified_diff(
                    reformat.before.splitlines(keepends=True),
                    reformat.after.splitlines(keepends=True),
                    fromfile=f"a/{reformat.path}",
                    tofile=f"b/{reformat.path}",
                )
            )
            for reformat in self.reformats
        )


@dataclass(frozen=True)
class FormatOperation:
    """``check``: exit 1 when a file would change; ``write``: rewrite the files (off
    for ``--check`` and ``--diff``, which change nothing)."""

    root: Path
    check: bool = False
    write: bool = True

    def run(self) -> Formatting:
        reformats, unreadable = format_files(self.root, write=self.write)
        return Formatting(reformats, unreadable, self.check, written=self.write)
