"""The ``duda`` platform against the fake of Duda's API, on one virtual clock, and a
proxy that loses or fails answers in front of it (the fake itself stays as Duda's
sources describe it)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from duda.fake import DudaFake
from reconciler.platform.base import Interest
from reconciler.platform.duda import DudaConfig
from reconciler.platform.duda.platform import DudaPlatform
from support.clock import VirtualTime
from support.repo import EXPERT

_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "host"}


def make_platform(
    url: str, fake: DudaFake, time: VirtualTime, *, readers: int = 8, **settings: Any
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
        sleep=time.sleep,
        monotonic=time.monotonic,
        seed=7,
    )


def interest(*addresses: str, packages: tuple[str, ...] = ()) -> Interest:
    return Interest(EXPERT, frozenset(addresses), frozenset(packages))


Fault = Callable[[str, str], str | None]
"""``fault(method, path)``: None to pass the request on, ``"drop"`` to carry it out and
close the connection without an answer, or ``"503"`` to answer 503 without passing it."""


@contextmanager
def faulty_proxy(upstream: str, fault: Fault) -> Iterator[str]:
    """A proxy of ``upstream`` (the fake's root) on 127.0.0.1; yields its base URL."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            what = fault(self.command, urlsplit(self.path).path)
            if what == "503":
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection = http.client.HTTPConnection(target.netloc, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            if what == "drop":  # carried out, and the answer never arrives
                self.close_connection = True
                return
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            if answer.status != 204:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if answer.status != 204:
                self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _relay

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Faults:
    """Which requests fail, and how often: the first ``times`` of each ``(method, path
    prefix)`` listed."""

    def __init__(self, how: str, matches: Callable[[str, str], bool], times: int = 1) -> None:
        self.how = how
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
