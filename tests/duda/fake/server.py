"""The fake Duda over real HTTP on 127.0.0.1: ``DudaFake``.

Every request, in order: the route is found (for the counts), the rate limits are applied
(429, no Retry-After), the HTTP Basic credentials are checked (401), then the route
answers. Two paths Duda does not have, outside ``/api``, read and reset the counts:
``GET /_fake/stats`` and ``POST /_fake/stats/reset`` (no credentials, not counted).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .api import Call, DudaApi, Variants
from .limits import Clock, RateLimits, system_clock
from .seed import Seed, SeedError, apply_seed, load_seed
from .state import DudaState
from .stats import FakeStats, Recorder

FAKE_USER = "fake-api-user"
FAKE_PASSWORD = "fake-api-pass-never-printed"
CREATE_ACCOUNT = "POST /accounts/create"


class DudaFake:
    """A stateful fake of the endpoints in DUDA_API.md, served on a free port.

    ``with DudaFake() as fake:`` starts it; ``fake.url`` is the base URL (ending in
    ``/api``, like ``https://api.duda.co/api``). ``clock`` drives the rate limits: pass a
    ``ManualClock`` and move it (or let the client's injected sleeper move it) so that a
    test never depends on the machine's speed. ``rate_limit=None`` turns the limits off.
    """

    def __init__(
        self,
        *,
        user: str = FAKE_USER,
        password: str = FAKE_PASSWORD,
        variants: Variants | None = None,
        clock: Clock | None = None,
        rate_limit: int | None = 10,
        create_account_per_minute: int = 60,
        max_page: int = 100,
        state: DudaState | None = None,
        port: int = 0,
    ) -> None:
        self.user = user
        self.password = password
        self.variants = variants or Variants()
        self.clock = clock or system_clock()
        self.state = state or DudaState()
        self.recorder = Recorder()
        self.api = DudaApi(self.state, lambda: self.variants, self.recorder, max_page)
        self.limits = (
            RateLimits(self.clock, rate_limit, {CREATE_ACCOUNT: create_account_per_minute})
            if rate_limit is not None
            else None
        )
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------

    def start(self) -> DudaFake:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line's ``python -m``)."""
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        self._server = server
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self._server = None

    def __enter__(self) -> DudaFake:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Duda is not running")
        return int(self._server.server_address[1])

    @property
    def environ(self) -> dict[str, str]:
        """The credentials under the names the reconciler's ``duda`` platform reads by
        default (DESIGN section 9), for a test that runs the command line."""
        return {"DUDA_API_USER": self.user, "DUDA_API_PASS": self.password}

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/api"

    # --- seeding and counts --------------------------------------------------------------

    def seed(self, seed: Seed | Path | str) -> None:
        """Sites, accounts, grants and plans from a ``Seed`` or a YAML/JSON seed file."""
        if isinstance(seed, Seed):
            apply_seed(self.state, seed)
            return
        path = Path(seed)
        try:
            apply_seed(self.state, load_seed(path))
        except SeedError as error:
            message = str(error)
            named = message if message.startswith(f"{path}:") else f"{path}: {message}"
            raise SeedError(named) from None

    def stats(self) -> FakeStats:
        return self.recorder.snapshot()

    def reset_stats(self) -> None:
        self.recorder.reset()

    # --- one request ---------------------------------------------------------------------

    def handle(self, method: str, target: str, auth: str | None, body: bytes) -> _Reply:
        parts = urlsplit(target)
        if parts.path.startswith("/_fake/"):
            return self._control(method, parts.path)
        route_name, reply = self._api(method, parts.path, parts.query, auth, body)
        self.recorder.answered(route_name, reply.status)
        return reply

    def _api(
        self, method: str, path: str, query: str, auth: str | None, body: bytes
    ) -> tuple[str, _Reply]:
        if not path.startswith("/api/"):
            return "unmatched", _text(404, "Not Found")
        segments = [unquote(segment) for segment in path.removeprefix("/api/").split("/")]
        route, params = self.api.find(method, segments)
        if route is None:
            return "unmatched", _text(404, "Not Found")
        if self.limits is not None and not self.limits.admit(route.name):
            return route.name, _text(429, "Too Many Requests")  # no Retry-After: Duda sends none
        if not self._authorized(auth):
            return route.name, _text(401, "Unauthorized")
        if route.method != method:
            return route.name, _text(405, "Method Not Allowed", {"Allow": route.method})
        status, payload = self.api.answer(route, Call(params, parse_qs(query), body))
        return route.name, _json(status, payload)

    def _authorized(self, auth: str | None) -> bool:
        scheme, _, encoded = (auth or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.user}:{self.password}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _control(self, method: str, path: str) -> _Reply:
        if (method, path) == ("GET", "/_fake/stats"):
            return _json(200, self.stats().model_dump())
        if (method, path) == ("POST", "/_fake/stats/reset"):
            self.reset_stats()
            return _json(204, None)
        return _text(404, "Not Found")


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


def _json(status: int, payload: Any) -> _Reply:
    body = b"" if payload is None else json.dumps(payload).encode()
    return _Reply(status, body, "application/json", {})


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, text.encode(), "text/plain; charset=utf-8", headers or {})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: DudaFake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a client's session expects of Duda
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.fake.handle(method, self.path, self.headers.get("Authorization"), body)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 204:  # a 204 carries neither a body nor a Content-Length
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.status != 204:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the counts, not a log."""
