"""A proxy on 127.0.0.1 before the platform that lets the first write through and holds
the next: a test kills an apply after exactly one change, however fast the machine."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


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
    target = urlsplit(upstream)
    host, port = target.hostname or "127.0.0.1", target.port

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not gate.admits(self.command, self.path):
                self.close_connection = True  # no answer: the platform never saw it
                return
            self._forward(body)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def _forward(self, body: bytes) -> None:
            connection = http.client.HTTPConnection(host, port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            # Only the platform's headers: its Date is the platform's clock.
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", gate
    finally:
        gate.release()  # held requests end, so that their threads do
        server.shutdown()
        server.server_close()
        thread.join()
