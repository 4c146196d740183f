"""The sandbox served by a thread of the command (a small repository's, and the tests'):
it stops when asked, whatever it was doing, and then serves nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from reconciler.sandbox.server import ThreadedSandbox


def address(sandbox: ThreadedSandbox) -> tuple[str, int]:
    parts = urlsplit(sandbox.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def test_it_stops_before_any_request(tmp_path: Path) -> None:
    sandbox = ThreadedSandbox(tmp_path / "sandbox.db").start()

    sandbox.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address(sandbox), timeout=5).close()


def test_it_stops_with_a_connection_open_and_after_answering(tmp_path: Path) -> None:
    sandbox = ThreadedSandbox(tmp_path / "sandbox.db").start()
    answered = requests.get(sandbox.url + "/v1/me", timeout=5)
    idle = socket.create_connection(address(sandbox), timeout=5)  # sends nothing

    sandbox.stop()

    idle.close()
    assert answered.status_code == 401  # it answered before it stopped
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/v1/me", timeout=5)


def test_it_stops_when_it_never_started(tmp_path: Path) -> None:
    ThreadedSandbox(tmp_path / "sandbox.db").stop()
