"""A proxy on 127.0.0.1 before the platform that lets the first write through and holds
the next: a test kills an apply after exactly one change, however fast the machine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from support.proxy import QuietHandler, relay, reply, request_body, serving

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Gate:
    """What the proxy lets through: reads and dry runs always, one write, then none
    until :meth:`release` (the writes held meanwhile are dropped, never forwarded)."""

    writes: int = 0
    first_held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admits(self, method: str, path: str) -> bool:
        """May this request go on to the platform? False: it was held, then dropped."""
        if method not in WRITES or "dry_run=true" in path or path.startswith("/v1/dry-runs"):
            return True
        with self._lock:
            self.writes += 1
            first = self.writes == 1
        if first or self.released.is_set():
            return True
        self.first_held.set()
        self.released.wait()
        return False

    def release(self) -> None:
        self.released.set()


@contextmanager
def holding_proxy(upstream: str) -> Iterator[tuple[str, Gate]]:
    """A proxy to ``upstream`` (http://127.0.0.1:port) on a free port: its URL and gate."""
    gate = Gate()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.0"  # one request a connection, as before

        def do_GET(self) -> None:
            body = request_body(self)
            if not gate.admits(self.command, self.path):
                self.close_connection = True  # no answer: the platform never saw it
                return
            answer = relay(self, upstream, body)
            reply(self, answer.status, answer.headers, answer.body, answer.reason)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    with serving(Handler) as url:
        try:
            yield url, gate
        finally:
            gate.release()  # held requests end, so that their threads do
