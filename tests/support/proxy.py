"""Tiny HTTP servers on 127.0.0.1 that stand before (or instead of) the platform.

Tests need platforms that misbehave in one precise way: one that rewrites refusal reasons,
one that holds a write, one from before an endpoint existed, one that drips its answer.
Each is a handler class served by :func:`serving`; a proxy forwards with :func:`relay`
and answers with :func:`reply`, so that only its one difference is written in the test.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})
"""Headers that belong to one connection, never forwarded either way."""


@dataclass(frozen=True)
class Relayed:
    """The upstream's answer to a forwarded request: status, its own headers, the body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing (the test's output stays the test's)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1; yields the base URL, and stops the
    server (and its thread) however the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def request_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The body of the request ``handler`` is serving (empty without one)."""
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def relay(
    handler: BaseHTTPRequestHandler, upstream: str, body: bytes, timeout: float = 60
) -> Relayed:
    """Send the request ``handler`` is serving, with ``body``, to ``upstream``."""
    target = urlsplit(upstream)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
    connection = http.client.HTTPConnection(target.netloc, timeout=timeout)
    try:
        connection.request(handler.command, handler.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        return Relayed(answer.status, answer.reason, answer.getheaders(), answer.read())
    finally:
        connection.close()


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    reason: str | None = None,
) -> None:
    """Answer with ``status``, the end-to-end ``headers`` and ``body``. Only the given
    headers: a relayed Date stays the platform's clock, not this server's."""
    handler.send_response_only(status, reason)
    for name, value in headers:
        if name.lower() not in HOP_BY_HOP:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
