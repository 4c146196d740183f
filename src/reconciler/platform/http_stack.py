"""requests and urllib3, imported without importlib.metadata.

urllib3 2.x imports its package ``urllib3.http2`` whenever urllib3 is imported, and that
package runs ``from importlib.metadata import version`` at once, for a check it makes
only when HTTP/2 is switched on (``urllib3.http2.inject_into_urllib3``), which this tool
never does. importlib.metadata brings zipfile, csv, email and more with it: about 5 ms
of every ``plan``'s start (issue 20), for nothing.

Importing this module imports requests (and so urllib3) while a stand-in named
``importlib.metadata`` is in ``sys.modules``. Its ``version`` loads the real module when
it is called; any other name loads the real module and answers from it. Once urllib3 is
in, the stand-in is gone, so importing importlib.metadata from then on gives the real
module. If importlib.metadata or urllib3 is imported already, nothing is stood in.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

METADATA = "importlib.metadata"


class _StandIn(types.ModuleType):
    """``importlib.metadata`` until something other than ``version`` is asked of it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's questions (__path__, ...)
            raise AttributeError(name)
        return getattr(real_metadata(), name)


def real_metadata() -> types.ModuleType:
    """The real importlib.metadata, imported now if it is not yet."""
    module = sys.modules.get(METADATA)
    if isinstance(module, _StandIn):
        del sys.modules[METADATA]  # so that the import below loads the real one
        module = None
    if module is None:
        module = importlib.import_module(METADATA)
    return module


def version(distribution_name: str) -> str:
    """``importlib.metadata.version``, loaded when first called."""
    return real_metadata().version(distribution_name)  # type: ignore[no-any-return]


@contextmanager
def metadata_deferred() -> Iterator[None]:
    """The stand-in in place for the imports made inside the block."""
    if METADATA in sys.modules or "urllib3" in sys.modules:
        yield
        return
    stand_in = _StandIn(METADATA, "importlib.metadata, loaded when first used")
    stand_in.version = version  # type: ignore[attr-defined]
    package = sys.modules["importlib"]
    sys.modules[METADATA] = stand_in
    package.metadata = stand_in  # type: ignore[attr-defined]  # as an import sets it
    try:
        yield
    finally:
        if sys.modules.get(METADATA) is stand_in:
            del sys.modules[METADATA]
        if getattr(package, "metadata", None) is stand_in:
            del package.metadata


with metadata_deferred():
    import requests  # noqa: F401  # imports urllib3, and urllib3.http2 with it
