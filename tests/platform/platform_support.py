"""Accounts and a seed shared by the client tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from reconciler.model import AccountKind, Package, Role
from reconciler.platform.transport import RetryPolicy
from support.proxy import QuietHandler, serving
from support.repo import EXPERT
from support.sandbox import Sandbox

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
"""Quick retries, so that tests under faults stay fast."""

STUDIO = EXPERT
ANNA = "anna@acme-bakery.example"
BEN = "ben@bens-bikes.example"
TOKENS = {
    STUDIO: "studio-secret-token-0001",
    ANNA: "anna-secret-token-0002",
    BEN: "ben-secret-token-0003",
}


def seed(sandbox: Sandbox, sites: int = 3) -> list[str]:
    """Three accounts and ``sites`` free sites owned by the studio; returns their ids."""
    store = sandbox.store
    store.ensure_account(STUDIO, AccountKind.EXPERT, token=TOKENS[STUDIO])
    store.ensure_account(ANNA, AccountKind.CUSTOMER, token=TOKENS[ANNA])
    store.ensure_account(BEN, AccountKind.CUSTOMER, token=TOKENS[BEN])
    ids = [f"site-{n:03d}" for n in range(sites)]
    with store.transaction() as tx:
        tx.insert_sites(
            (site_id, site_id.title(), STUDIO, STUDIO, Package.FREE, None, {BEN: Role.VIEWER})
            for site_id in ids
        )
    return ids


Respond = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def hostile_platform(respond: Respond) -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 that answers every request with ``respond``.

    It stands for a platform that misbehaves (echoes headers, drips its answer, rate
    limits forever); yields its base URL.
    """

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            try:
                respond(self)
            except OSError:  # the client hung up, as it should on a hostile answer
                self.close_connection = True

        do_PUT = do_POST = do_DELETE = do_GET

    with serving(Handler) as url:
        yield url


def answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: str,
    content_type: str = "application/problem+json",
    headers: dict[str, str] | None = None,
) -> None:
    """Send one whole answer."""
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


class ManualDeadlines:
    """Deadline timers (a client's ``deadline_timer``) that pass when the test says.

    A hostile platform calls :meth:`expire_current` once it has begun to drip its
    answer, so the deadline passes mid-answer, as it would on a slow wall clock, with
    no wait at all. ``armed`` holds the seconds of every deadline set.
    """

    def __init__(self) -> None:
        self.armed: list[float] = []
        self._running: list[_ManualTimer] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float, expire: Callable[[], None]) -> _ManualTimer:
        self.armed.append(seconds)
        return _ManualTimer(self, expire)

    def expire_current(self) -> None:
        """The deadline of the attempt under way passes (if one is)."""
        with self._lock:
            timer = self._running.pop() if self._running else None
        if timer is not None:
            timer.expire()

    def _started(self, timer: _ManualTimer) -> None:
        with self._lock:
            self._running.append(timer)

    def _stopped(self, timer: _ManualTimer) -> None:
        with self._lock:
            if timer in self._running:
                self._running.remove(timer)


class _ManualTimer:
    def __init__(self, owner: ManualDeadlines, expire: Callable[[], None]) -> None:
        self._owner = owner
        self.expire = expire

    def start(self) -> None:
        self._owner._started(self)

    def cancel(self) -> None:
        self._owner._stopped(self)
