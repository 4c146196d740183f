"""Pydantic's plugin loader, without importlib.metadata when no plugin is installed.

Pydantic asks for its plugins (entry points of the group ``pydantic``) when it builds
the first model, through ``pydantic.plugin._loader``, which imports
``importlib.metadata`` (email, zipfile, csv, ...) and reads every installed package's
metadata: a fifth of the start-up of ``reconciler validate`` on a few files (issue 20).

``install`` puts a stand-in for that module in place before any model is built. Its
``get_plugins`` first looks, with a directory listing, for an installed package that
declares a ``[pydantic]`` entry point; only when one does (or where it cannot tell: a
zip on ``sys.path``, a custom finder) does it load pydantic's own loader and answer as
that does. Without plugins both answer "none", so nothing changes but the time.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
_GROUP = "[pydantic]"
_METADATA = (".dist-info", ".egg-info")


def install() -> None:
    """Put the stand-in in place unless pydantic's loader is imported already."""
    if LOADER in sys.modules:
        return
    stand_in = types.ModuleType(LOADER, __doc__)
    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    sys.modules[LOADER] = stand_in


def get_plugins() -> Iterable[Any]:
    """Pydantic's plugins: none when no installed package declares one (looked for once:
    pydantic asks for every model it builds)."""
    global _none_installed
    if _none_installed is None:
        _none_installed = not may_have_plugins(sys.path)
    if _none_installed:
        return ()
    return _pydantic_loader().get_plugins()  # type: ignore[no-any-return]


_none_installed: bool | None = None


def may_have_plugins(path: Iterable[str], finders: Iterable[object] | None = None) -> bool:
    """Whether a package on ``path`` may declare a pydantic plugin (True when unsure);
    ``finders``: the import system's (``sys.meta_path``)."""
    finders = sys.meta_path if finders is None else finders
    if any(_serves_metadata(finder) for finder in finders):
        return True  # a finder of its own may serve metadata we cannot list
    for folder in path:
        try:
            entries = list(os.scandir(folder or "."))
        except NotADirectoryError:
            return True  # a zip on sys.path: its metadata is inside
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(_METADATA) and _declares_plugin(entry.path):
                return True
    return False


def _serves_metadata(finder: object) -> bool:
    """A finder other than the standard path finder that importlib.metadata would ask."""
    return hasattr(finder, "find_distributions") and getattr(finder, "__name__", "") != (
        "PathFinder"
    )


def _declares_plugin(folder: str) -> bool:
    try:
        with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as stream:
            return any(line.strip() == _GROUP for line in stream)
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return True


def _pydantic_loader() -> Any:
    """Pydantic's own loader, imported in place of the stand-in."""
    stand_in = sys.modules.pop(LOADER, None)
    try:
        import pydantic.plugin._loader as loader
    except ImportError:  # pragma: no cover - pydantic moved it: keep the stand-in
        if stand_in is not None:
            sys.modules[LOADER] = stand_in
        raise
    return loader
