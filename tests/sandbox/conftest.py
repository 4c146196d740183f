"""Fixtures: a seeded sandbox on 127.0.0.1 with a clock the test can move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sandbox_support import TOKENS, FakeClock, seed_people

from reconciler.platform.transport import RetryPolicy
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock) -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(tmp_path / "sandbox.db", clock=clock) as running:
        seed_people(running)
        yield running


@pytest.fixture
def client_for(
    sandbox: ThreadedSandbox,
) -> Iterator[Callable[[str], SandboxClient]]:
    """``client_for(email)``: a client acting as that account (closed after the test)."""
    clients: list[SandboxClient] = []

    def make(email: str) -> SandboxClient:
        retry = RetryPolicy(max_attempts=1)  # rule tests want the first answer, not retries
        client = SandboxClient(sandbox.url, TOKENS[email], retry=retry)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def http(sandbox: ThreadedSandbox) -> Iterator[Callable[..., requests.Response]]:
    """``http(method, path, token=..., headers=..., json=...)``: a raw request, for headers."""
    session = requests.Session()

    def call(
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        json: object = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return session.request(method, sandbox.url + path, headers=sent, json=json, timeout=10)

    yield call
    session.close()
