"""Clocks for tests: time that passes only when the code under test sleeps on it."""

from __future__ import annotations

import threading


class VirtualTime:
    """A monotonic clock and a sleep for pacers, retries and rate limiters.

    ``sleep`` returns at once and moves the clock on to when the sleeper would wake, so
    a rate limit, a ``Retry-After`` or a backoff is obeyed to the second however fast or
    busy the machine is, and a test that waits out an hour takes no time. Everything
    but sleeping takes no time at all.

    Threads sleep side by side, as on the wall clock: a thread wakes at the moment it
    last read the clock (or woke) plus what it asked, and the clock is the latest such
    moment. So eight threads that each sleep until their own slot of a pacer move the
    clock to the last slot, not to the sum of their sleeps. A thread may go on before
    another that wakes earlier (none of them waits): what it then does is seen later
    than on the wall clock, never earlier.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._seen = threading.local()  # the moment this thread last read the clock
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            self._seen.at = self._now
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            woke = getattr(self._seen, "at", self._now) + max(0.0, seconds)
            self._seen.at = woke
            self._now = max(self._now, woke)
