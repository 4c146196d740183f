"""Fixtures: a seeded sandbox on 127.0.0.1 and clients for its accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_support import FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(tmp_path / "sandbox.db") as running:
        seed(running)
        yield running


@pytest.fixture
def studio(sandbox: ThreadedSandbox) -> Iterator[SandboxClient]:
    with SandboxClient(sandbox.url, TOKENS[STUDIO], retry=FAST_RETRY) as client:
        yield client
