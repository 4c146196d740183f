"""A proxy on 127.0.0.1 before the platform that refuses the writes to chosen sites.

Reads and dry runs pass; a write to a site in ``Refusals.sites`` is answered 409 with a
problem, as a platform refuses a write it will not make: the apply's change fails there,
deterministically, and the rest of the run goes on.
"""

from __future__ import annotations

import http.client
import json
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
class Refusals:
    sites: set[str] = field(default_factory=set)

    def refuses(self, method: str, path: str) -> bool:
        if method not in WRITES or "dry_run=true" in path or path.startswith("/v1/dry-runs"):
            return False
        return any(path.startswith(f"/v1/sites/{site}/") for site in self.sites)


@contextmanager
def refusing_proxy(upstream: str) -> Iterator[tuple[str, Refusals]]:
    """A proxy to ``upstream`` on a free port: its URL, and the sites it refuses."""
    refusals = Refusals()
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if refusals.refuses(self.command, self.path):
                self._answer(409, "application/problem+json", {}, _problem())
                return
            connection = http.client.HTTPConnection(target.netloc, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP}
            self._answer(answer.status, None, kept, data)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def _answer(
            self, status: int, kind: str | None, headers: dict[str, str], data: bytes
        ) -> None:
            self.send_response_only(status)
            if kind is not None:
                self.send_header("Content-Type", kind)
            for name, value in headers.items():
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
        yield f"http://127.0.0.1:{server.server_port}", refusals
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _problem() -> bytes:
    detail = "The site is locked for maintenance; try again later."
    problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": detail}
    return json.dumps(problem).encode()
