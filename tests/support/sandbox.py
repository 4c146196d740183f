"""The sandbox on 127.0.0.1 for tests: each HTTP front, a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler.sandbox.plain import PlainSandbox
from reconciler.sandbox.server import EmbeddedSandbox

FRONTS = ["fastapi", "plain"]
"""The sandbox's two HTTP fronts: FastAPI (what `reconciler sandbox serve` runs) and
the plain server (the embedded sandbox of `reconciler plan`); a fixture parametrised
over them makes every test hold for both."""

Sandbox = EmbeddedSandbox | PlainSandbox


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def running_sandbox(
    front: str, db: Path, *, clock: Callable[[], datetime] | None = None
) -> Iterator[Sandbox]:
    """The sandbox behind ``front`` (one of ``FRONTS``) on a fresh port, over ``db``."""
    kind = EmbeddedSandbox if front == "fastapi" else PlainSandbox
    with kind(db, clock=clock) as running:
        yield running
