"""requests and urllib3, imported without importlib.metadata or charset_normalizer.

urllib3 2.x imports its package ``urllib3.http2`` whenever urllib3 is imported, and that
package runs ``from importlib.metadata import version`` at once, for a check it makes
only when HTTP/2 is switched on (``urllib3.http2.inject_into_urllib3``), which this tool
never does. importlib.metadata brings zipfile, csv, email and more with it: about 5 ms
of every ``plan``'s start (issue 20), for nothing.

requests imports charset_normalizer (its tables and detectors: about 6 ms more) to
read its ``__version__`` and to keep it as ``requests.compat.chardet``, which only
``Response.apparent_encoding`` calls: for the text of a body whose Content-Type names
no charset. The clients read the platform's answers as bytes; at most an error's text
(``application/problem+json``) may come to it, and then loads it.

Importing this module imports requests (and so urllib3) while a stand-in for each of
those two modules is in ``sys.modules``. The metadata's stand-in answers ``version``
lazily; charset_normalizer's carries the real ``__version__``, read from the package's
own ``version.py`` without importing the package. Any other name asked of a stand-in
loads the real module and answers from it. Once requests is in, the stand-ins are gone
from ``sys.modules``, so importing either module from then on gives the real one. A
module imported already (or not installed) is not stood in.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

METADATA = "importlib.metadata"
CHARSET = "charset_normalizer"


class _StandIn(types.ModuleType):
    """A module until something it was not given is asked of it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (__path__, ...)
            raise AttributeError(name)
        return getattr(real_module(self.__name__), name)


def real_module(name: str) -> types.ModuleType:
    """The real module ``name``, imported now if it is not yet."""
    module = sys.modules.get(name)
    if isinstance(module, _StandIn):
        del sys.modules[name]  # so that the import below loads the real one
        module = None
    if module is None:
        module = importlib.import_module(name)
    return module


def real_metadata() -> types.ModuleType:
    """The real importlib.metadata, imported now if it is not yet."""
    return real_module(METADATA)


def version(distribution_name: str) -> str:
    """``importlib.metadata.version``, loaded when first called."""
    return real_metadata().version(distribution_name)  # type: ignore[no-any-return]


@contextmanager
def standing_in(name: str, **given: Any) -> Iterator[None]:
    """A stand-in for module ``name``, with the attributes ``given``, in place for the
    imports made inside the block."""
    stand_in = _StandIn(name, f"{name}, loaded when first used")
    for attribute, value in given.items():
        setattr(stand_in, attribute, value)
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules[parent_name] if parent_name else None
    sys.modules[name] = stand_in
    if parent is not None:
        setattr(parent, child, stand_in)  # as an import sets it
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        if parent is not None and getattr(parent, child, None) is stand_in:
            delattr(parent, child)


@contextmanager
def metadata_deferred() -> Iterator[None]:
    """importlib.metadata's stand-in in place for the imports made inside the block."""
    if METADATA in sys.modules or "urllib3" in sys.modules:
        yield
        return
    with standing_in(METADATA, version=version):
        yield


def charset_version() -> str | None:
    """charset_normalizer's ``__version__``, from its ``version.py`` alone; None when it
    is imported already, not installed, or not laid out as a package of files."""
    if CHARSET in sys.modules or "requests" in sys.modules:
        return None
    spec = importlib.util.find_spec(CHARSET)
    folders = list(spec.submodule_search_locations or ()) if spec else []
    if len(folders) != 1:
        return None
    found = importlib.util.spec_from_file_location(
        f"_{CHARSET}_version", Path(folders[0]) / "version.py"
    )
    if found is None or found.loader is None:
        return None
    module = importlib.util.module_from_spec(found)
    try:
        found.loader.exec_module(module)
    except OSError:  # no version.py: a charset_normalizer laid out otherwise, imported
        return None
    number = getattr(module, "__version__", None)
    return number if isinstance(number, str) else None


@contextmanager
def charset_deferred() -> Iterator[None]:
    """charset_normalizer's stand-in, carrying its real ``__version__``, in place for the
    imports made inside the block."""
    number = charset_version()
    if number is None:
        yield
        return
    with standing_in(CHARSET, __version__=number):
        yield


with ExitStack() as deferred:
    deferred.enter_context(metadata_deferred())
    deferred.enter_context(charset_deferred())
    import requests  # noqa: F401  # imports urllib3, and urllib3.http2 with it
