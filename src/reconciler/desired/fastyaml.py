"""A fast reader for the plain YAML that site files are written in, or None.

Composing a site file with ruamel.yaml (libyaml's parser, nodes, then data) costs about
50 us; 10,000 files spend more time there than in everything else ``validate`` does.
Nearly every site file is a handful of ``key: value`` lines, comments and one nested
mapping, written by ``reconciler import`` or by hand in the same shape. This module reads
exactly that shape, line by line, and gives up (``None``) on anything else: the caller
then reads the text with ruamel as before, which reports problems with its messages.

What it returns must be what the ruamel path returns for the same text: the same data
(types included: plain scalars are resolved by the caller's YAML 1.2 resolver) and the
same marks (0-based line and column of every key and value). A file read differently
would be a security bug in a tool that decides who owns a site, so the subset is small
and each rule errs on the side of giving up; ``tests/desired/test_fastyaml.py`` checks
the two paths against each other on generated texts.

The subset, all else gives up:

- printable ASCII and ``\\n`` only (no tab, no ``\\r``, no BOM, no control character);
- comment lines and blank lines anywhere;
- block mappings, one key a line, nested by indentation (at most ``MAX_LEVELS`` deep);
- keys: a letter, digit or ``_``, then letters, digits and ``_.@+-`` (at most
  ``MAX_KEY`` characters), right before the ``:``; each key once in its mapping;
- values: ``{}``, ``[]``, or a plain scalar on the key's line, optionally followed by
  spaces and a `` #`` comment, that starts with a letter, digit or one of ``_.~+/(``
  (or ``-`` and one of those) and holds no ``:``, no ``[]{}`` and no `` #``;
- ``key:`` with nothing after it but a comment is followed by its nested mapping,
  indented deeper (an empty value, null, gives up).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reconciler.desired.yamldoc import Path_

MAX_LEVELS = 8
"""Mappings nested deeper than this are left to ruamel (and its depth limit)."""

UNSURE: Any = object()
"""What a resolver answers for a scalar the fast path must not decide (an odd tag)."""

Resolve = Callable[[str], Any]
"""A plain scalar's value (the YAML resolver's answer), or ``UNSURE``."""

MAX_KEY = 128
"""Longer keys are left to ruamel (YAML allows 1024 characters to a key's ``:``)."""

# One line of a block mapping: its indentation (1), key (2), and after ``: ``, a plain
# scalar (3) or ``{}`` / ``[]`` (4), each optionally followed by spaces or a comment;
# neither (3) nor (4) after ``key:``. A plain scalar here is words between spaces: no
# indicator first (``-`` only before a letter, digit, ``_`` or ``.``), no ``:`` (``: ``
# would start a mapping, and YAML 1.1 and 1.2 disagree on some others), no flow
# brackets, no ``#`` after a space (that starts a comment). Possessive quantifiers: a
# line that does not match fails at once, without trying other splits.
_ENTRY = re.compile(
    r"""
    (\ *+)
    ([A-Za-z0-9_][A-Za-z0-9_.@+-]*+)
    :(?:\ ++(?:
        (
            (?:[A-Za-z0-9_.~+/(]|-[A-Za-z0-9_.])
            [^\ :\[\]{}]*+
            (?:\ +[^\ :\[\]{}\#][^\ :\[\]{}]*+)*+
        )(?:\ +\#.*|\ *)
        |(\{\}|\[\])(?:\ +\#.*|\ *)
        |\#.*
    )?)?
    """,
    re.VERBOSE,
)


class Mark:
    """Where a key or value starts, as a YAML parser's mark gives it: 0-based."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Mark({self.line}, {self.column})"


Parsed = tuple[dict[str, Any], dict[Path_, Mark], dict[Path_, Mark]]
"""The data, the marks of its keys and those of its values (by path, root ``()``)."""

# Marks are shared by every document with a key or value at the same place (most files
# have the same few): a lookup instead of a new object. Never changed once made.
_MARKS: dict[tuple[int, int], Mark] = {}
_SHARED_MARKS = 1 << 16


def parse(text: str, resolved_first: frozenset[str], resolve: Resolve) -> Parsed | None:
    """``text``'s data and marks, or None when it is not in the subset (see above).

    ``resolve`` is asked for each plain scalar whose first character is in
    ``resolved_first`` (the others are text, as YAML's resolver says).
    """
    if not text.isascii():
        return None
    reader = _Reader(resolved_first, resolve)
    for number, line in enumerate(text.split("\n")):
        # isprintable: no tab, ``\r`` or control character (which ``.*`` would match).
        entry = _ENTRY.fullmatch(line) if line.isprintable() else None
        if entry is not None:
            if not reader.entry(number, entry):
                return None
        elif not _blank_or_comment(line):
            return None
    return reader.result()


class _Reader:
    """The document read so far, and the mapping its next line is expected in."""

    __slots__ = (
        "indent", "keys", "levels", "parent", "path", "resolve", "resolved_first", "values",
        "waiting",
    )  # fmt: skip

    def __init__(self, resolved_first: frozenset[str], resolve: Resolve) -> None:
        self.resolved_first = resolved_first
        self.resolve = resolve
        self.keys: dict[Path_, Mark] = {}
        self.values: dict[Path_, Mark] = {}
        # The open mappings, innermost last: (indentation, mapping, path); the innermost
        # one's, also as attributes: nearly every line belongs to it.
        self.levels: list[tuple[int, dict[str, Any], Path_]] = []
        self.indent = -1
        self.parent: dict[str, Any] = {}
        self.path: Path_ = ()
        self.waiting: Path_ | None = None  # a ``key:`` line, before its nested mapping

    def entry(self, number: int, entry: re.Match[str]) -> bool:
        """Add one ``key: value`` line; False when the text is not in the subset."""
        indent = entry.end(1)
        if entry.end(2) - indent > MAX_KEY:
            return False
        if (self.waiting is not None or indent != self.indent) and not self._level(number, indent):
            return False
        key = entry[2]
        if key in self.parent:
            return False  # a duplicate: ruamel says where the first one is
        path = (*self.path, key)
        self.keys[path] = _MARKS.get((number, indent)) or _mark(number, indent)
        plain, empty = entry.group(3, 4)
        if plain is not None:
            value = self.resolve(plain) if plain[0] in self.resolved_first else plain
            column = entry.start(3)
        elif empty is not None:
            value = {} if empty == "{}" else []
            column = entry.start(4)
        else:
            self.waiting = path
            return True
        self.parent[key] = value
        self.values[path] = _MARKS.get((number, column)) or _mark(number, column)
        return value is not UNSURE

    def _level(self, number: int, indent: int) -> bool:
        """Open the mapping a line at ``indent`` starts, or go back to the one it
        continues; False when it is neither."""
        if self.waiting is not None:
            return self._open(number, indent)
        if not self.levels:  # the first entry: the document's mapping starts here
            self.waiting = ()
            return self._open(number, indent)
        levels = self.levels
        while indent < levels[-1][0]:
            levels.pop()
            if not levels:
                return False
        self.indent, self.parent, self.path = levels[-1]
        return indent == self.indent

    def _open(self, number: int, indent: int) -> bool:
        """Start the nested mapping of the ``key:`` waiting for it."""
        path = self.waiting
        if path is None or indent <= self.indent or len(self.levels) >= MAX_LEVELS:
            return False  # an empty value (null), or too deep
        mapping: dict[str, Any] = {}
        if path:
            self.parent[str(path[-1])] = mapping  # a key: always text here
        self.values[path] = _MARKS.get((number, indent)) or _mark(number, indent)
        self.levels.append((indent, mapping, path))
        self.indent, self.parent, self.path = indent, mapping, path
        self.waiting = None
        return True

    def result(self) -> Parsed | None:
        if self.waiting is not None or not self.levels:
            return None  # an empty value at the end, or no mapping at all
        return self.levels[0][1], self.keys, self.values


def _mark(line: int, column: int) -> Mark:
    mark = Mark(line, column)
    if len(_MARKS) < _SHARED_MARKS:
        _MARKS[line, column] = mark
    return mark


def _blank_or_comment(line: str) -> bool:
    stripped = line.lstrip(" ")
    return not stripped or (stripped[0] == "#" and line.isprintable())
