"""Where the platform is: the configured API, or the embedded sandbox.

With no ``platform`` block in reconciler.yaml, a local sandbox serves the API from
``.reconciler/sandbox.db`` (created on first use, seeded from ``sandbox.seed.yaml``
when the repository has one), so that every command works on a fresh clone.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from reconciler.desired.config import SANDBOX_DB, SANDBOX_SEED, Config
from reconciler.errors import ConfigError
from reconciler.model import AccountKind, ObservedSite
from reconciler.platform.client import PlatformClient
from reconciler.platform.errors import TransportError
from reconciler.platform.schema import to_observed

CHILD_STOP_SECONDS = 10

log = logging.getLogger("reconciler")


@contextmanager
def open_platform(
    root: Path, config: Config, environ: Mapping[str, str]
) -> Iterator[PlatformClient]:
    """A client for the configured platform, checked to act as the configured expert."""
    if config.platform is not None:
        with PlatformClient.from_config(config.platform, environ) as client:
            _check_identity(client, config.expert)
            yield client
        return
    with _embedded_sandbox(root, config) as client:
        yield client


@contextmanager
def _embedded_sandbox(root: Path, config: Config) -> Iterator[PlatformClient]:
    """The sandbox server in a child process, on a socket this process opened.

    A child process rather than a thread: the platform's work then runs beside ours, as
    a real platform's would, instead of competing for this interpreter. The socket is
    listening before the child starts, so requests simply wait until it serves.
    """
    db = root / SANDBOX_DB
    token = _prepare_sandbox(db, root / SANDBOX_SEED, config.expert)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        child = _start_sandbox_child(listener.fileno(), db)
    try:
        with PlatformClient(f"http://127.0.0.1:{port}", token) as client:
            yield client
    except TransportError as exc:
        if child.poll() is not None:  # the real cause: the sandbox stopped serving
            raise ConfigError(
                f"the embedded sandbox stopped (exit code {child.returncode}); its error, "
                f"if any, is above. {exc.message}"
            ) from exc
        raise
    finally:
        _stop_child(child)


def _prepare_sandbox(db: Path, seed: Path, expert: str) -> str:
    """Create and seed the database on first use; the expert's token."""
    from reconciler.sandbox.seed import seed_file
    from reconciler.sandbox.store import SandboxStore

    is_new = not db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        with SandboxStore(db) as store:
            if is_new and seed.is_file():
                log.info("seeding the embedded sandbox from %s", seed.name)
                seed_file(store, seed)
            store.ensure_account(expert, AccountKind.EXPERT)
            return store.token_for(expert)
    except BaseException:
        if is_new:  # a half-made sandbox would be taken for a seeded one next time
            for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                leftover.unlink(missing_ok=True)
        raise


def _start_sandbox_child(fd: int, db: Path) -> subprocess.Popen[bytes]:
    # The plain server: the routes and rules of `sandbox serve`, answering a tenth of a
    # second after it starts, where importing FastAPI and uvicorn takes half a second.
    command = [sys.executable, "-m", "reconciler.sandbox.plain", str(fd), str(db)]
    # Its own session: Ctrl-C is for the command, which then stops the child itself.
    return subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.PIPE, start_new_session=True)


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    if child.stdin is not None:
        child.stdin.close()  # the child stops serving at the end of its input
    try:
        child.wait(timeout=CHILD_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _check_identity(client: PlatformClient, expert: str) -> None:
    me = client.me()
    if me.email != expert:
        raise ConfigError(
            f"the platform token belongs to {me.email}, but reconciler.yaml says the expert "
            f"is {expert}; use the expert's token or correct `expert:`"
        )


def observe(client: PlatformClient) -> dict[str, ObservedSite]:
    """Every site the expert can see, one request per page."""
    return {site.id: to_observed(site) for site in client.iter_sites()}
