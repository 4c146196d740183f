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

- printable characters and ``\\n`` only (``str.isprintable``: no tab, no ``\\r``, no
  BOM, no control character, no U+0085, U+2028 or U+2029, which YAML reads as line
  breaks, no space but the ASCII one); any other than ASCII only in values and comments,
  after every mark of its line, so that marks are the same however a parser counts
  columns;
- comment lines and blank lines anywhere;
- block mappings, one key a line, nested by indentation (at most ``MAX_LEVELS`` deep);
- keys: a letter, digit or ``_``, then letters, digits and ``_.@+-`` (at most
  ``MAX_KEY`` characters), right before the ``:``; each key once in its mapping;
- values: ``{}``, ``[]``, or a plain scalar on the key's line, optionally followed by
  spaces and a `` #`` comment, that starts with a letter, digit, one of ``_.~+/(`` or
  any character but ASCII (or ``-`` and a letter, digit, ``_`` or ``.``) and holds no
  ``:``, no ``[]{}`` and no `` #``;
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
            (?:[A-Za-z0-9_.~+/(\x80-\U0010ffff]|-[A-Za-z0-9_.])
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


# The characters of the subset: printable ASCII and the line break (no tab, ``\r``,
# BOM, control or non-ASCII character; libyaml reads U+0085 and U+2028 as line breaks).
_ALLOWED = bytes(range(0x20, 0x7F)) + b"\n"


def parse(text: str, resolved_first: frozenset[str], resolve: Resolve) -> Parsed | None:
    """``text``'s data and marks, or None when it is not in the subset (see above).

    ``resolve`` is asked for each plain scalar whose first character is in
    ``resolved_first`` (the others are text, as YAML's resolver says).
    """
    if not _characters_allowed(text):
        return None
    reader = _Reader(resolved_first, resolve)
    add, fullmatch = reader.entry, _ENTRY.fullmatch
    for number, line in enumerate(text.split("\n")):
        entry = fullmatch(line)
        if entry is not None:
            if not add(number, entry):
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
        self.parent: dict[str, Any] = {}
        self.path: Path_ = ()
        # A ``key:`` line before its nested mapping (the document's own at first); while
        # one waits, ``indent`` is -1: no line continues the mapping it is in.
        self.waiting: Path_ | None = ()
        self.indent = -1

    def entry(self, number: int, entry: re.Match[str]) -> bool:
        """Add one ``key: value`` line; False when the text is not in the subset."""
        spaces, key, plain, empty = entry.groups()
        indent = len(spaces)
        if indent != self.indent and not self._level(number, indent):
            return False
        if key in self.parent or len(key) > MAX_KEY:
            return False  # a duplicate: ruamel says where the first one is
        path = (*self.path, key)
        place = (number, indent)
        self.keys[path] = _MARKS.get(place) or _mark(place)
        if plain is not None:
            value = self.resolve(plain) if plain[0] in self.resolved_first else plain
            place = (number, entry.start(3))
        elif empty is not None:
            value = {} if empty == "{}" else []
            place = (number, entry.start(4))
        else:
            self.waiting, self.indent = path, -1
            return True
        self.parent[key] = value
        self.values[path] = _MARKS.get(place) or _mark(place)
        return value is not UNSURE

    def _level(self, number: int, indent: int) -> bool:
        """Open the mapping a line at ``indent`` starts, or go back to the one it
        continues; False when it is neither."""
        if self.waiting is not None:
            return self._open(number, indent)
        levels = self.levels
        while levels and indent < levels[-1][0]:
            levels.pop()
        if not levels:
            return False
        self.indent, self.parent, self.path = levels[-1]
        return indent == self.indent

    def _open(self, number: int, indent: int) -> bool:
        """Start the nested mapping of the ``key:`` waiting for it."""
        path, levels = self.waiting, self.levels
        if path is None or len(levels) >= MAX_LEVELS or (levels and indent <= levels[-1][0]):
            return False  # an empty value (null), or too deep
        mapping: dict[str, Any] = {}
        if path:
            self.parent[str(path[-1])] = mapping  # a key: always text here
        place = (number, indent)
        self.values[path] = _MARKS.get(place) or _mark(place)
        levels.append((indent, mapping, path))
        self.indent, self.parent, self.path = indent, mapping, path
        self.waiting = None
        return True

    def result(self) -> Parsed | None:
        if self.waiting is not None or not self.levels:
            return None  # an empty value at the end, or no mapping at all
        return self.levels[0][1], self.keys, self.values


def _mark(place: tuple[int, int]) -> Mark:
    mark = Mark(*place)
    if len(_MARKS) < _SHARED_MARKS:
        _MARKS[place] = mark
    return mark


def _characters_allowed(text: str) -> bool:
    if text.isascii():  # nearly every file: one C loop over the bytes
        return not text.encode().translate(None, _ALLOWED)
    return text.replace("\n", " ").isprintable()


def _blank_or_comment(line: str) -> bool:
    stripped = line.lstrip(" ")
    return not stripped or stripped[0] == "#"
