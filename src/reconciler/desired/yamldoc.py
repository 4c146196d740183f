"""A parsed YAML document: plain Python data plus where each key and value was written.

Kept free of ruamel so that the domain can use locations without the YAML library.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from reconciler.model import Location

Path_ = tuple[str | int, ...]
KeyT = TypeVar("KeyT")


class Mark(Protocol):
    """Where the parser saw a node: 0-based, as YAML parsers count."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


class Positions(Mapping[KeyT, Location], Generic[KeyT]):
    """Where each key or value of a file was written, made a ``Location`` only when asked.

    The parser marks every node anyway; keeping its marks costs nothing while a file is
    read, and only the few places a problem or a message names become ``Location``s.
    """

    __slots__ = ("file", "marks")

    def __init__(self, file: str = "", marks: Mapping[KeyT, Mark] | None = None) -> None:
        self.file = file
        self.marks: Mapping[KeyT, Mark] = {} if marks is None else marks

    def __getitem__(self, key: KeyT) -> Location:
        mark = self.marks[key]
        return Location(self.file, mark.line + 1, mark.column + 1)

    def get(self, key: KeyT, default: Any = None) -> Any:
        mark = self.marks.get(key)
        return default if mark is None else Location(self.file, mark.line + 1, mark.column + 1)

    def __contains__(self, key: object) -> bool:
        return key in self.marks

    def __iter__(self) -> Iterator[KeyT]:
        return iter(self.marks)

    def __len__(self) -> int:
        return len(self.marks)


class KeyPlaces(Mapping[str, Location]):
    """Where a site file's keys were written, by dotted name (``owner``,
    ``collaborators.tom``), packed small: a desired site keeps it for as long as the
    command runs, and a plan holds 100,000 of them."""

    __slots__ = ("_file", "_names", "_places")

    def __init__(self, keys: Positions[Path_]) -> None:
        names: list[str] = []
        places = array("I")
        for path, mark in keys.marks.items():
            if len(path) == 1:
                names.append(sys.intern(str(path[0])))  # a few names, shared by all
            elif len(path) == 2 and path[0] == "collaborators":
                names.append(f"collaborators.{path[1]}")
            else:
                continue
            places.append(mark.line)
            places.append(mark.column)
        self._file = keys.file
        self._names = tuple(names)
        self._places = places

    def __getitem__(self, name: str) -> Location:
        try:
            index = self._names.index(name)
        except ValueError:
            raise KeyError(name) from None
        line, column = self._places[2 * index], self._places[2 * index + 1]
        return Location(self._file, line + 1, column + 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(frozen=True, slots=True)
class Document:
    """The data of one YAML file with the location of every key and value."""

    file: str
    data: Any
    key_locations: Positions[Path_] = field(default_factory=Positions)
    value_locations: Positions[Path_] = field(default_factory=Positions)

    @property
    def start(self) -> Location:
        found: Location | None = self.value_locations.get(())
        return Location(file=self.file) if found is None else found

    def value_at(self, path: Path_) -> Location:
        """Where the value at ``path`` is, or the nearest enclosing value that exists."""
        return _nearest(self.value_locations, path) or self.start

    def key_at(self, path: Path_) -> Location:
        """Where the key at ``path`` is, falling back to its value or an enclosing one."""
        return self.key_locations.get(path) or self.value_at(path)


def _nearest(locations: Mapping[Path_, Location], path: Path_) -> Location | None:
    for end in range(len(path), -1, -1):
        found = locations.get(path[:end])
        if found is not None:
            return found
    return None
