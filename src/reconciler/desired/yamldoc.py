"""A parsed YAML document: plain Python data plus where each key and value was written.

Kept free of ruamel so that the domain can use locations without the YAML library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import Location

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """The data of one YAML file with the location of every key and value."""

    file: str
    data: Any
    key_locations: Mapping[Path_, Location] = field(default_factory=dict)
    value_locations: Mapping[Path_, Location] = field(default_factory=dict)

    @property
    def start(self) -> Location:
        return self.value_locations.get((), Location(file=self.file))

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
