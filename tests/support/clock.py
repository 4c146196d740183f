"""Clocks for tests: time that passes only when the code under test sleeps on it."""

from __future__ import annotations

import threading


class VirtualTime:
    """A monotonic clock and a sleep for pacers, retries and rate limiters.

    ``sleep`` returns at once and moves the clock on by what was asked, so a rate limit,
    a ``Retry-After`` or a backoff is obeyed to the second however fast or busy the
    machine is, and a test that waits out an hour takes no time. Sleeps of several
    threads add up (the clock cannot know they overlapped): code that waits more than it
    threads add up (the clock cannot know they overlapped), so it runs ahead of the wall
    clock, never behind: a rate limiter on it refills at least as fast as on the wall
    clock, and a limit a test sees broken on it is broken on the wall clock too.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += max(0.0, seconds)
