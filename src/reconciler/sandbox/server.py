"""The sandbox's one HTTP front, on the standard library's ``http.server``.

It serves the embedded sandbox of ``plan`` and ``apply`` (a thread of the command, or
a child process: :func:`serve_inherited_socket`), ``reconciler sandbox serve``
(:func:`serve`, with injected faults) and the tests (:class:`ThreadedSandbox`). What a
route answers is :mod:`reconciler.sandbox.api`'s; this module is the HTTP edge
(DESIGN.md section 4), which refuses before anything else is read:

- a request line that is not ``METHOD /path HTTP/1.x`` (400; HTTP/0.9 and 2.0: 505),
  a raw non-ASCII or control character in it (400), a line over 64 KiB (414);
- a header line over 64 KiB or more than 100 headers (431), a control character such
  as NUL in a header (400);
- a body sent without ``Content-Length`` (``Transfer-Encoding``, chunked or not: 411),
  a negative, non-numeric or repeated-and-different ``Content-Length`` (400), a
  declared body over 1 MiB (413), before the body is read and before the token is;

then the :class:`~reconciler.sandbox.front.Front` (the injected faults: latency, 429
with ``RateLimit`` fields, 503, dropped answers; the counters), then the API. Every
answer is dated by the platform's clock, and every error, these included, is
``application/problem+json``. A connection whose body was left unread is closed after
the answer, draining what the client still sends for a moment so that it can read the
answer.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import select
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from reconciler.desired.config import SANDBOX_DB
from reconciler.errors import ConfigError
from reconciler.sandbox.api import Api, Request
from reconciler.sandbox.exchange import Answer, problem, title_of
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.front import MAX_BODY_BYTES, TOO_LARGE, Front
from reconciler.sandbox.store import Clock, SandboxStore

logger = logging.getLogger("reconciler.sandbox")

MAX_LINE_BYTES = 65536  # the request line, and each header line (http.client's limit)
IDLE_TIMEOUT_SECONDS = 60.0  # a connection that sends nothing for this long is closed
LINGER_SECONDS = 5.0  # how long an unread body is drained after its refusal
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
_TARGET = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else must be escaped
_ABSOLUTE = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^/?#]*")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Refused(Exception):
    """The edge refuses the request; the connection closes after ``answer``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.answer = problem(status, detail, {"Connection": "close"})


@dataclass(frozen=True)
class RequestLine:
    method: str
    path: str
    query: str
    minor: int  # HTTP/1.<minor>


def parse_request_line(raw: bytes) -> RequestLine:
    """``METHOD target HTTP/1.x``, with the target in origin or absolute form."""
    line = raw.decode("latin-1").rstrip("\r\n")
    words = line.split(" ")
    if len(words) == 2 and words[1] and not words[1].startswith("HTTP/"):
        raise Refused(505, "HTTP/0.9 is not supported; send HTTP/1.1 requests.")
    if len(words) != 3 or not all(words):
        raise Refused(400, "The request line must be 'METHOD /path HTTP/1.1'.")
    method, target, version = words
    matched = _VERSION.fullmatch(version)
    if matched is None:
        raise Refused(400, f"{version!r} is not an HTTP version; send HTTP/1.1 requests.")
    if matched.group(1) != "1":
        raise Refused(505, f"{version} is not supported; send HTTP/1.1 requests.")
    if _METHOD.fullmatch(method) is None:
        raise Refused(400, "The request method is not a token (RFC 9110 section 9.1).")
    if _TARGET.fullmatch(target) is None:
        raise Refused(400, "The request target has characters that must be percent-encoded.")
    absolute = _ABSOLUTE.match(target)
    if absolute is not None:  # RFC 9112 section 3.2.2: the path is what counts
        target = target[absolute.end() :] or "/"
    if not target.startswith("/"):
        raise Refused(400, "The request target must be a path, such as /v1/me.")
    path, _, query = target.partition("?")
    return RequestLine(method, path, query, int(matched.group(2)))


def body_length(headers: http.client.HTTPMessage) -> int:
    """The declared length of the body (0: none), or the edge's refusal."""
    if headers.get("Transfer-Encoding") is not None:
        raise Refused(411, "Send the body with a Content-Length; chunked bodies are refused.")
    values = headers.get_all("Content-Length") or []
    declared = [part.strip() for value in values for part in value.split(",")]
    if not declared:
        return 0
    if not all(part.isascii() and part.isdigit() for part in declared):
        raise Refused(400, "Content-Length must be a number of bytes.")
    if len(set(declared)) > 1 and len({int(part) for part in declared}) > 1:
        raise Refused(400, "Content-Length is given more than once, with different values.")
    digits = declared[0].lstrip("0") or "0"
    if len(digits) > len(str(MAX_BODY_BYTES)) or int(digits) > MAX_BODY_BYTES:
        raise Refused(413, TOO_LARGE)
    return int(digits)


def check_header_values(headers: http.client.HTTPMessage) -> None:
    for name, value in headers.items():
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise Refused(400, f"The header {name[:40]!r} holds a control character.")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections
    server_version = "reconciler-sandbox"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: SandboxServer

    def handle_one_request(self) -> None:
        """One request off the connection, answered; ``close_connection`` says whether
        another may follow."""
        self.close_connection = True  # until the request shows it keeps the connection
        self.command, self.request_version = "", "HTTP/1.1"
        try:
            self._handle()
        except Refused as refusal:
            route = f"{self.command or '-'} (refused)"
            self.server.front.api.stats.count(route, str(refusal.answer.status))
            self._finish(refusal.answer, linger=True)
        except (TimeoutError, ConnectionError):
            return  # the client went quiet or away: nothing to answer

    def _handle(self) -> None:
        raw = self.rfile.readline(MAX_LINE_BYTES + 1)
        if raw in (b"\r\n", b"\n"):  # RFC 9112 section 2.2: one empty line may come first
            raw = self.rfile.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise Refused(414, f"The request line is over {MAX_LINE_BYTES:,} bytes.")
        line = parse_request_line(raw)
        self.command = line.method
        self.requestline = raw.decode("latin-1").rstrip("\r\n")[:200]
        headers = self._headers()
        check_header_values(headers)
        length = body_length(headers)
        self.close_connection = _closes(line.minor, headers.get("Connection", ""))
        if headers.get("Expect", "").lower() == "100-continue" and length:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client closed before the end of its body
            self.close_connection = True
            return
        names = {name.lower(): value for name, value in reversed(headers.items())}
        request = Request(line.method, line.path, line.query, names, body)
        answer = self.server.front.respond(request, self._client_gone)
        if isinstance(answer, str):  # no answer is sent: close without one
            self.close_connection = True
            return
        self._finish(answer)

    def _client_gone(self) -> bool:
        """Whether the client closed its side (its socket reads as ended)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _headers(self) -> http.client.HTTPMessage:
        try:
            return http.client.parse_headers(self.rfile)
        except http.client.LineTooLong:
            raise Refused(431, f"A header line is over {MAX_LINE_BYTES:,} bytes.") from None
        except http.client.HTTPException:
            raise Refused(431, "More than 100 header fields.") from None

    def _finish(self, answer: Answer, *, linger: bool = False) -> None:
        """Send, and (for a refusal at the edge) close without reading on."""
        if "Connection" in answer.headers:
            self.close_connection = True
        self._send(answer)
        if linger:
            self._drain()

    def _send(self, answer: Answer) -> None:
        self.send_response_only(answer.status, title_of(answer.status))
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status != 204:
            if answer.media_type is not None:
                self.send_header("Content-Type", answer.media_type)
            self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection and "Connection" not in answer.headers:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and answer.status != 204:
            self.wfile.write(answer.body)
        self.wfile.flush()

    def _drain(self) -> None:
        """Read and drop what the client still sends, for a bounded time, so that the
        connection does not reset under the answer (unread bytes would make the close
        a reset, which can discard the answer on the client's side)."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    return
        except OSError:
            return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors, as problems too (it would write HTML)."""
        self.close_connection = True
        self._send(problem(code, explain or message or title_of(code), {"Connection": "close"}))

    def version_string(self) -> str:
        return self.server_version  # without http.server's trailing Python version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """``Date`` by the platform's clock, which ``sandbox clock advance`` moves."""
        return self.server.front.date()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox: " + format, *args)


def _closes(minor: int, connection: str) -> bool:
    """Whether the connection closes after this answer (RFC 9112 section 9.3)."""
    options = {option.strip().lower() for option in connection.split(",")}
    if minor == 0:
        return "keep-alive" not in options
    return "close" in options


class SandboxServer(ThreadingHTTPServer):
    """The sandbox API over HTTP, one thread per connection."""

    daemon_threads = True
    request_queue_size = 128  # apply opens many connections at once; 5 would drop some

    def __init__(self, front: Front, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, _Handler)
        self.front = front

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    @classmethod
    def on_socket(cls, front: Front, sock: socket.socket) -> SandboxServer:
        """A server on a socket that is already bound and listening."""
        server = cls.__new__(cls)
        ThreadingHTTPServer.__init__(server, sock.getsockname(), _Handler, False)
        server.socket.close()
        server.socket = sock
        server.server_address = sock.getsockname()
        server.front = front
        return server


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db_path: Path = SANDBOX_DB,
    faults: FaultSpec | None = None,
    *,
    ready: Callable[[str], None] = lambda _url: None,
) -> None:
    """Serve the sandbox until interrupted (Ctrl-C); ``ready`` is told its URL once it
    listens (with the port the system chose for port 0)."""
    with SandboxStore(db_path) as store:
        try:
            server = SandboxServer(Front(Api(store), faults), (host, port))
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise ConfigError(
                f"cannot serve the sandbox on {host}:{port}: {exc.strerror or exc}; choose "
                "another --port (--port 0 takes a free one) or --host"
            ) from None
        ready(f"http://{host}:{server.server_address[1]}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


class ThreadedSandbox:
    """The sandbox on 127.0.0.1, served by a background thread of this process: the
    embedded sandbox of a small repository, and the tests' sandbox.

    ::

        with ThreadedSandbox(tmp_path / "sandbox.db") as sandbox:
            client = PlatformClient(sandbox.url, sandbox.store.token_for(email))

    ``clock`` is the platform's clock; ``sleep`` and ``monotonic`` are what the
    injected faults wait with and the rate limiter counts by (tests pass their own).
    """

    def __init__(
        self,
        db_path: Path,
        *,
        faults: FaultSpec | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db_path = Path(db_path)
        self.faults = faults
        self.store = SandboxStore(self.db_path, clock=clock)
        front = Front(Api(self.store), faults, sleep=sleep, monotonic=monotonic)
        self._server = SandboxServer(front)
        self._stopping = threading.Event()
        self._wake, self._woken = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="reconciler-sandbox", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _serve(self) -> None:
        """socketserver's ``serve_forever``, but woken at once to stop: its ``shutdown``
        waits for the loop's next poll (10 ms at the end of every command whose sandbox
        is a thread, issue 20), and its polls wake the process 100 times a second."""
        server = self._server
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ)
            selector.register(self._woken, selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = selector.select()
                if self._stopping.is_set():
                    break
                if any(key.fileobj is server for key, _ in ready):
                    server.handle_request()  # ready: it does not wait
                server.service_actions()

    def start(self) -> ThreadedSandbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stopping.set()
            self._wake.send(b"\0")
            self._thread.join(timeout=15)
        self._server.server_close()
        self._wake.close()
        self._woken.close()
        self.store.close()

    def __enter__(self) -> ThreadedSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_inherited_socket(fd: int) -> None:
    """The embedded sandbox's child process: serve on a listening socket inherited from
    the parent, the database whose path comes as the first line of standard input (in
    hexadecimal), until the parent closes our standard input or goes away.

    The parent starts us before its database exists (see operations/sandbox_child.py),
    so we import while it creates and seeds it; an input that ends first means the
    parent needed no sandbox after all.
    """
    sock = socket.socket(fileno=fd)
    line = sys.stdin.buffer.readline()
    if not line.endswith(b"\n"):
        return
    with SandboxStore(Path(os.fsdecode(bytes.fromhex(line.decode())))) as store:
        server = SandboxServer.on_socket(Front(Api(store)), sock)

        def stop_when_parent_leaves() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
            # The parent has had every answer it waited for, and each write was its own
            # committed transaction: nothing is lost by not waiting for open connections.
            os._exit(0)

        threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
        server.serve_forever()


if __name__ == "__main__":  # python -m reconciler.sandbox.server FD, then the database
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    serve_inherited_socket(int(sys.argv[1]))
