"""The sandbox on 127.0.0.1 for tests, and a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.sandbox.server import ThreadedSandbox

Sandbox = ThreadedSandbox


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
