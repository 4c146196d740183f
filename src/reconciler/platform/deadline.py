"""An overall deadline for one HTTP exchange: connecting, sending, the whole answer.

``requests`` and urllib3 only bound each read of the socket, so a server that sends a
byte every few seconds (of its headers or of its body) holds a request forever. Here a
timer shuts the exchange's socket down when the deadline passes; the blocked read then
ends at once and the client sees a connection lost (and ``Deadline.expired``).

The connection classes register their socket with the deadline of the calling thread
as they wait for the answer; :func:`watched_pool_classes` gives urllib3 pools that use
them. The timer is injected (:data:`TimerFactory`), so that tests decide when a
deadline passes instead of waiting for the wall clock.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from reconciler.platform import http_stack  # noqa: F401  # first: see its docstring

# isort: split
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Timer(Protocol):
    """What a deadline needs of a timer (``threading.Timer`` is one)."""

    def start(self) -> None: ...

    def cancel(self) -> None: ...


TimerFactory = Callable[[float, Callable[[], None]], Timer]
"""``factory(seconds, expire)``: a timer, not yet started, that calls ``expire`` once
``seconds`` have passed (unless cancelled)."""


def thread_timer(seconds: float, expire: Callable[[], None]) -> Timer:
    """A daemon thread that calls ``expire`` after ``seconds`` of the wall clock."""
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    return timer


class Deadline:
    """``with Deadline(seconds):`` bounds the HTTP exchange made inside, in this thread."""

    def __init__(self, seconds: float, *, timer: TimerFactory = thread_timer) -> None:
        self.seconds = seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = timer(seconds, self._expire)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        _current.deadline = None
        with self._lock:
            self._socket = None

    def watch(self, sock: socket.socket | None) -> None:
        """The socket the answer comes on; shut at once if the deadline has passed."""
        with self._lock:
            self._socket = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            _shut(self._socket)


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed: nothing left to wake
        sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread


def _watch(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def watched_pool_classes() -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes (by scheme) whose connections obey :class:`Deadline`."""
    return {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
