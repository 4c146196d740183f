"""Fixtures: a seeded sandbox on 127.0.0.1 and clients for its accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.plain import PlainSandbox
from reconciler.sandbox.server import EmbeddedSandbox


@pytest.fixture(params=["fastapi", "plain"])
def sandbox(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[EmbeddedSandbox | PlainSandbox]:
    """Each of the sandbox's HTTP fronts: FastAPI, and the embedded sandbox's plain server."""
    front = EmbeddedSandbox if request.param == "fastapi" else PlainSandbox
    with front(tmp_path / "sandbox.db") as running:
        seed(running)
        yield running


@pytest.fixture
def studio(sandbox: EmbeddedSandbox | PlainSandbox) -> Iterator[SandboxClient]:
    with SandboxClient(sandbox.url, TOKENS[STUDIO], retry=FAST_RETRY) as client:
        yield client
