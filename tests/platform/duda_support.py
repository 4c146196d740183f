"""The ``duda`` platform against the fake of Duda's API, on one virtual clock, and a
proxy that loses or fails answers in front of it (the fake itself stays as Duda's
sources describe it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from duda.fake import DudaFake
from reconciler.platform.base import Interest
from reconciler.platform.deadline import TimerFactory, thread_timer
from reconciler.platform.duda import DudaConfig
from reconciler.platform.duda.platform import DudaPlatform
from support.clock import VirtualTime
from support.proxy import QuietHandler, relay, reply, request_body, serving
from support.repo import EXPERT


def make_platform(
    url: str,
    fake: DudaFake,
    time: VirtualTime,
    *,
    readers: int = 8,
    deadline_timer: TimerFactory = thread_timer,
    **settings: Any,
) -> DudaPlatform:
    """A ``duda`` platform for ``url`` with the fake's credentials, on ``time``.

    ``readers=1`` where a test counts 429 answers: threads that sleep on a virtual clock
    are seen by the fake at the latest of their wake-ups (support.clock), which bunches
    their requests as no wall clock would."""
    return DudaPlatform(
        DudaConfig(url=url, **settings),
        fake.user,
        fake.password,
        readers=readers,
        deadline_timer=deadline_timer,
        sleep=time.sleep,
        monotonic=time.monotonic,
        seed=7,
    )


def interest(*addresses: str, packages: tuple[str, ...] = ()) -> Interest:
    return Interest(EXPERT, frozenset(addresses), frozenset(packages))


Fault = Callable[[str, str], str | None]
"""``fault(method, path)``: None to pass the request on, ``"drop"`` to carry it out and
close the connection without an answer, ``"503"`` to answer 503 without passing it, or
``"hang"`` to begin an answer and send no more (then ``fault.on_hang()``, if it has one,
is called: a test's deadline passes)."""


@contextmanager
def faulty_proxy(upstream: str, fault: Fault) -> Iterator[str]:
    """A proxy of ``upstream`` (the fake's root) on 127.0.0.1; yields its base URL."""

    class Handler(QuietHandler):
        def _relay(self) -> None:
            body = request_body(self)
            what = fault(self.command, urlsplit(self.path).path)
            if what == "hang":
                self._hang()
            elif what == "503":
                reply(self, 503, [], b"")
            else:
                answer = relay(self, upstream, body)
                if what == "drop":  # carried out, and the answer never arrives
                    self.close_connection = True
                else:
                    reply(self, answer.status, answer.headers, answer.body, answer.reason)

        def _hang(self) -> None:
            """The start of an answer, then nothing until the client lets go."""
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
            self.wfile.flush()
            getattr(fault, "on_hang", lambda: None)()
            self.rfile.read(1)
            self.close_connection = True

        do_GET = do_POST = do_DELETE = _relay

    with serving(Handler) as url:
        yield f"{url}/api"


class Faults:
    """Which requests fail, and how often: the first ``times`` of each ``(method, path
    prefix)`` listed."""

    def __init__(
        self,
        how: str,
        matches: Callable[[str, str], bool],
        times: int = 1,
        on_hang: Callable[[], None] | None = None,
    ) -> None:
        self.how = how
        self.on_hang = on_hang or (lambda: None)
        self.matches = matches
        self.left = times
        self.injected = 0
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> str | None:
        with self._lock:
            if self.left > 0 and self.matches(method, path):
                self.left -= 1
                self.injected += 1
                return self.how
        return None
