"""Running the sandbox: as a blocking server, or embedded in a background thread.

Dropped answers (``drop_rate``) need the server's help: the app does the work, then
asks the connection to close before any byte of the answer is sent. Our uvicorn
protocol class offers that as the ASGI extension ``reconciler.drop_connection``, so the
client sees a connection closed without an answer (``requests`` raises
``ConnectionError``) and cannot tell whether the request took effect.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconciler.desired.config import SANDBOX_DB
from reconciler.errors import ReconcilerError
from reconciler.sandbox.app import create_app
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.middleware import DROP_EXTENSION, Receive, Scope, Send
from reconciler.sandbox.store import Clock, SandboxStore

logger = logging.getLogger("reconciler.sandbox")

STARTUP_TIMEOUT_SECONDS = 10.0


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a way for the app to hang up without answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app_with_drop(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop_connection
            await inner(scope, receive, send)

        self.app = app_with_drop

    def _drop_connection(self) -> None:
        # Marking the cycle disconnected stops uvicorn from answering 500 for us.
        if self.cycle is not None:
            self.cycle.disconnected = True
        self.transport.close()


def _config(
    store: SandboxStore, faults: FaultSpec | None, host: str, port: int, log_level: str
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(store, faults),
        host=host,
        port=port,
        http=DroppingH11Protocol,
        ws="none",
        lifespan="off",
        loop="asyncio",
        log_level=log_level,
        access_log=False,
        date_header=False,  # the app dates answers by the platform's clock
        timeout_graceful_shutdown=5,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db_path: Path = SANDBOX_DB,
    faults: FaultSpec | None = None,
) -> None:
    """Serve the sandbox until interrupted (Ctrl-C)."""
    with SandboxStore(db_path) as store:
        server = uvicorn.Server(_config(store, faults, host, port, "info"))
        server.run()


class SandboxStartError(ReconcilerError):
    """The embedded sandbox did not start."""


class EmbeddedSandbox:
    """The sandbox on 127.0.0.1 in a background thread of this process, for tests.

    ::

        with EmbeddedSandbox(tmp_path / "sandbox.db") as sandbox:
            client = PlatformClient(sandbox.url, sandbox.store.token_for(email))
    """

    def __init__(
        self, db_path: Path, *, faults: FaultSpec | None = None, clock: Clock | None = None
    ) -> None:
        self.db_path = Path(db_path)
        self.faults = faults
        self.store = SandboxStore(self.db_path, clock=clock)
        self._server = uvicorn.Server(_config(self.store, faults, "127.0.0.1", 0, "warning"))
        self._thread = threading.Thread(target=self._run, name="reconciler-sandbox", daemon=True)
        self.url = ""

    def _run(self) -> None:
        # A fresh loop per thread, closed with the thread: no loop leaks into the caller.
        asyncio.run(self._server.serve())

    def start(self) -> EmbeddedSandbox:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SandboxStartError("the embedded sandbox did not start")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        logger.debug("embedded sandbox serving %s at %s", self.db_path, self.url)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self.store.close()

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
