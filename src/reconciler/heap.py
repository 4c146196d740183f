"""The cyclic garbage collector while a command builds its long-lived data.

CPython's collector walks every container object alive at each full collection, and
collections come as objects are made: loading 100,000 site files, decoding as many
listed sites, then diffing them, each phase made the collector walk the millions of
objects of the phases before it, again and again, so that their cost grew faster than
the sites (at 10,000 sites a third of the listing decode, two thirds of the diff).

Those objects live until the command ends, so inside ``bulk()`` only the young
generations are collected (the short-lived garbage of a phase, such as each file's
parser, which holds reference cycles), never the whole heap; when the last bulk phase
(of any thread) ends, what survived is moved out of the collector's sight
(``gc.freeze``), so that no later collection walks it either. Memory is still freed as
usual, by reference counting and by the young collections.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_phases = 0  # bulk phases running, in any thread: the collector is one per process
_thresholds = gc.get_threshold()
NEVER = 1 << 30  # young collections between full ones: in effect, none


@contextmanager
def bulk() -> Iterator[None]:
    """A phase that builds many long-lived objects: no full collection meanwhile."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _phases, _thresholds
    with _lock:
        if _phases == 0:
            _thresholds = gc.get_threshold()
            young, middle, _ = _thresholds
            gc.set_threshold(young, middle, NEVER)
        _phases += 1


def _leave() -> None:
    global _phases
    with _lock:
        _phases -= 1
        if _phases == 0:
            if gc.isenabled():
                gc.freeze()
            gc.set_threshold(*_thresholds)
