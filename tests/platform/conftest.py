"""Fixtures: a seeded sandbox on 127.0.0.1 and clients for its accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.plain import PlainSandbox
from reconciler.sandbox.server import EmbeddedSandbox
from support.sandbox import FRONTS, running_sandbox


@pytest.fixture(params=FRONTS)
def sandbox(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[EmbeddedSandbox | PlainSandbox]:
    """Each of the sandbox's HTTP fronts: FastAPI, and the embedded sandbox's plain server."""
    with running_sandbox(request.param, tmp_path / "sandbox.db") as running:
        seed(running)
        yield running


@pytest.fixture
def studio(sandbox: EmbeddedSandbox | PlainSandbox) -> Iterator[SandboxClient]:
    with SandboxClient(sandbox.url, TOKENS[STUDIO], retry=FAST_RETRY) as client:
        yield client
