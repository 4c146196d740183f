"""A 100 MiB body is refused by its declared size before it is read: the serving process
(``reconciler sandbox serve``, its own process, so its memory is its own) stays small
while the client sends all of it."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.store import SandboxStore

MIB = 1 << 20
BODY_MIB = 100
MAX_PEAK_BYTES = 200 * 1000 * 1000
PATH = "/v1/sites/acme-bakery/collaborators/anna@acme-bakery.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """``reconciler sandbox serve`` in a child process: its port and process id (one for
    every case: its peak memory holds for all of them)."""
    db = tmp_path_factory.mktemp("memory") / "sandbox.db"
    SandboxStore(db).close()
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--db",
        str(db),
    ]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as server:
        try:
            wait_until_serving(port, server)
            yield port, server.pid
        finally:
            server.terminate()
            server.wait(timeout=15)


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):  # bounded by count: a slow machine waits longer, never fails sooner
        if server.poll() is not None:
            raise AssertionError(f"the sandbox exited: {server.stderr and server.stderr.read()!r}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/stats", timeout=5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the sandbox did not serve")


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def send_big_body(port: int, headers: list[str]) -> int:
    """Headers, then 100 MiB of body from another thread; the status of the answer."""
    head = "\r\n".join([f"PUT {PATH} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())

        def body() -> None:
            chunk = b"x" * MIB
            try:
                for _ in range(BODY_MIB):
                    sock.sendall(chunk)
            except OSError:  # the server closed its side once it had answered
                pass

        sender = threading.Thread(target=body, daemon=True)
        sender.start()
        answer = http.client.HTTPResponse(sock)
        try:
            answer.begin()
            answer.read()
        finally:
            answer.close()
        sender.join(timeout=60)
        return answer.status


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([f"Content-Length: {BODY_MIB * MIB}"], 413),
        ([f"Content-Length: {BODY_MIB * MIB}", "Authorization: Bearer studio-token"], 413),
        (["Content-Length: -1"], 400),
        (["Transfer-Encoding: chunked"], 411),
    ],
    ids=["declared, no token", "declared, token", "negative length", "chunked"],
)
def test_a_100_mib_body_is_refused_in_little_memory(
    served: tuple[int, int], headers: list[str], status: int
) -> None:
    port, pid = served

    assert send_big_body(port, headers) == status

    assert peak_rss(pid) < MAX_PEAK_BYTES
