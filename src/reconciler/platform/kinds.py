"""Platform kinds as plugins: ``kind:`` in reconciler.yaml's ``platform`` block.

A kind is a factory, registered as an entry point of the group ``reconciler.platforms``
(DESIGN.md section 4)::

    [project.entry-points."reconciler.platforms"]
    acme = "acme_reconciler:platform"

The factory is called with the ``platform`` block (a :class:`PlatformBlock`: a mapping,
``kind`` removed, that knows where each key and value was written) and the environment,
and returns a :class:`~reconciler.platform.base.Platform`. It does not contact the
platform (``validate`` calls it too, with an empty environment); it raises

- :class:`PlatformConfigError` for a block it cannot use, naming the key
  (``block.error("url", "...")``, or ``block.parse(Model)`` to check it with pydantic),
  which ``validate`` and every command report at file:line;
- :class:`SecretMissing` when a variable the block names is unset or unusable: a
  command that needs the platform says so; ``validate``, which checks files, does not.

The built-in kinds are looked up by name, without the scan of every installed
distribution that entry points cost; they are declared as entry points all the same.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from reconciler.errors import ConfigError
from reconciler.explain import Path_, explain_errors
from reconciler.model import Location

if TYPE_CHECKING:  # a kind's factory makes one; `validate` imports none of the platform
    from reconciler.platform.base import Platform

ENTRY_POINT_GROUP = "reconciler.platforms"
DEFAULT_KIND = "reconciler"
BUILT_IN: Mapping[str, str] = {
    "reconciler": "reconciler.platform.reconciler:reconciler_platform",
    "duda": "reconciler.platform.duda:duda_platform",
}
"""The kinds this package brings, as ``module:factory`` (pyproject.toml declares the same
entry points): a new kind is one module in platform/ and one line here and there."""

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class BlockProblem:
    """One thing wrong with a platform block, and where it was written."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class PlatformConfigError(ConfigError):
    """The factory cannot use the platform block; each problem names its key."""

    def __init__(self, problems: Sequence[BlockProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class SecretMissing(ConfigError):
    """A variable the platform block names (a token, a password) is unset or unusable."""


@dataclass(frozen=True)
class PlatformBlock(Mapping[str, Any]):
    """The ``platform`` block of reconciler.yaml without ``kind``, as plain data.

    Locations are keyed by paths inside the block (``("url",)``, ``("roles", "viewer")``);
    ``name`` is the block's own key, which messages put before a key (``platform.url``).
    """

    kind: str
    data: Mapping[str, Any]
    start: Location
    key_locations: Mapping[Path_, Location] = field(default_factory=dict)
    value_locations: Mapping[Path_, Location] = field(default_factory=dict)
    name: str = "platform"

    @classmethod
    def of(cls, kind: str, values: Mapping[str, Any]) -> PlatformBlock:
        """A block that no file holds (the embedded sandbox's, a test's)."""
        return cls(kind, dict(values), Location(file="(built in)"))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def value_at(self, *path: str | int) -> Location:
        """Where the value at ``path`` was written, or the nearest enclosing one."""
        for end in range(len(path), 0, -1):
            found = self.value_locations.get(path[:end])
            if found is not None:
                return found
        return self.start

    def key_at(self, *path: str | int) -> Location:
        """Where the key at ``path`` was written, else its value or an enclosing one."""
        return self.key_locations.get(path) or self.value_at(*path)

    def dotted(self, *path: str | int) -> str:
        return ".".join(str(part) for part in (self.name, *path))

    def error(self, key: str, message: str) -> PlatformConfigError:
        """``key``'s value is unusable: ``platform.<key>: <message>``, at the value."""
        where = self.value_at(key)
        return PlatformConfigError([BlockProblem(where, f"{self.dotted(key)}: {message}")])

    def parse(self, model: type[ModelT]) -> ModelT:
        """The block checked by a pydantic model (``extra="forbid"`` catches typos); every
        problem is said as validate says it of any file, at its key or value."""
        try:
            return model.model_validate(dict(self.data))
        except ValidationError as exc:
            explained = explain_errors(model, exc, prefix=(self.name,))
        problems = []
        for found in explained:
            inside = found.at[1:]  # the paths start with the block's name
            where = self.key_at(*inside) if found.at_key else self.value_at(*inside)
            problems.append(BlockProblem(where, found.message))
        raise PlatformConfigError(problems)


class PlatformFactory(Protocol):
    """What an entry point of ``reconciler.platforms`` names."""

    def __call__(self, block: PlatformBlock, environ: Mapping[str, str]) -> Platform: ...


class UnknownKind(ConfigError):
    """No installed distribution provides the platform kind."""

    def __init__(self, kind: str, installed: Sequence[str]) -> None:
        self.kind = kind
        self.installed = tuple(installed)
        super().__init__(
            f"{kind!r} is not an installed platform kind (installed: {', '.join(installed)}; "
            f"a package adds one with an entry point in the group {ENTRY_POINT_GROUP})"
        )


def factory_of(kind: str) -> PlatformFactory:
    """The factory of ``kind``: a built-in one by name, any other from its entry point."""
    target = BUILT_IN.get(kind)
    if target is not None:
        module, _, attribute = target.partition(":")
        factory: PlatformFactory = getattr(importlib.import_module(module), attribute)
        return factory
    for entry_point in _entry_points():
        if entry_point.name == kind:
            loaded: PlatformFactory = entry_point.load()
            return loaded
    raise UnknownKind(kind, installed_kinds())


def installed_kinds() -> list[str]:
    """Every kind that can be named: the built-in ones and every entry point's."""
    return sorted({*BUILT_IN, *(entry_point.name for entry_point in _entry_points())})


def _entry_points() -> Sequence[Any]:
    from importlib.metadata import entry_points  # the scan: only for a kind not built in

    return list(entry_points(group=ENTRY_POINT_GROUP))


def create_platform(block: PlatformBlock, environ: Mapping[str, str]) -> Platform:
    """The platform the block describes; the errors of :func:`factory_of` and the factory."""
    return factory_of(block.kind)(block, environ)
