"""The fake's clock and Duda's documented rate limits, on that clock.

Duda documents "a hard limit of 10 API calls per second" for every endpoint and 60 calls
a minute for Create Account, answered with 429 and no Retry-After (DUDA_API.md). How the
window moves is not documented; a sliding window is the strictest reading, so a client
that passes here passes a fixed window too. Only admitted requests count: a client that
waits out a 429 is not punished for asking.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]
"""Seconds on a monotonic scale; only differences matter."""


class ManualClock:
    """A clock that moves only when told to, so no test depends on the machine's speed.

    ``sleep`` is ``advance`` under the name a client's injected sleeper expects: a client
    under test that "sleeps" moves the fake's time by exactly that much.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))


def system_clock() -> Clock:
    return time.monotonic


class SlidingWindow:
    """At most ``limit`` admitted events in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a limit needs limit >= 1 and window > 0 ({limit}, {window})")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def has_room(self, now: float) -> bool:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        return len(self._times) < self.limit

    def record(self, now: float) -> None:
        self._times.append(now)


class RateLimits:
    """The global per-second limit, and per-route limits on top of it."""

    def __init__(self, clock: Clock, per_second: int, per_route_per_minute: dict[str, int]) -> None:
        self._clock = clock
        self._global = SlidingWindow(per_second, 1.0)
        self._routes = {
            route: SlidingWindow(limit, 60.0) for route, limit in per_route_per_minute.items()
        }
        self._lock = threading.Lock()

    def admit(self, route: str) -> bool:
        """Whether a request to ``route`` may run now; if so, it is counted."""
        with self._lock:
            now = self._clock()
            windows = [self._global]
            if route in self._routes:
                windows.append(self._routes[route])
            if not all(window.has_room(now) for window in windows):
                return False
            for window in windows:
                window.record(now)
            return True
