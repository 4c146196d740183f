"""One request budget for every thread of a client, learnt from the platform.

The platform announces its limit on every answer with the IETF RateLimit header fields
(draft-ietf-httpapi-ratelimit-headers-11)::

    RateLimit-Policy: "default";q=50;w=1      50 requests (quota) per 1 s window
    RateLimit: "default";r=12;t=1             12 left; the quota is whole again in 1 s

From the policy the :class:`Pacer` knows the rate (q per w seconds) and spaces the start
of every request of every thread at that rate, a little under it, instead of each
thread finding the limit alone by hitting it. What ``r`` says is left (less a reserve,
and less the requests already under way) may start at once, as a burst. ``r=0``
pauses everyone for ``t`` seconds. A platform that sends no such fields still teaches
something: after a 429 everyone waits out its ``Retry-After`` together, and the pace
becomes nine tenths of the rate that was just too much, creeping back up while answers
come.

Malformed fields are ignored, as the draft says; nothing here raises.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SAFETY = 0.98
"""Pace at this share of the announced rate: the two clocks need not agree exactly."""

LEARNT_SHARE = 0.9
"""Without announced fields, pace at this share of the rate that was answered 429."""

RECOVERY = 0.01
"""Without announced fields, each answered request raises the learnt pace by 1%."""

LEARN_MIN = 4
"""Learn a pace from a 429 only after this many starts within its second: fewer do not
explain it (another client may have spent the quota), and would slow this one to a crawl."""

RESERVE = 0.1
"""Of the quota the platform says is left, keep this share unspent by bursts."""

_PARAMETER = re.compile(r";\s*([a-z][a-z0-9_.*-]*)=([0-9]+)")


@dataclass(frozen=True)
class Announced:
    """What one answer's RateLimit fields say (None where a field is missing)."""

    rate: float | None = None  # requests per second, from RateLimit-Policy q/w
    remaining: int | None = None  # RateLimit r
    reset: float | None = None  # RateLimit t, seconds


def _parameters(item: str) -> dict[str, int]:
    """``"default";q=50;w=1`` -> {"q": 50, "w": 1} (the first list member only)."""
    first = item.split(",", 1)[0]
    return {name: int(value) for name, value in _PARAMETER.findall(first)}


def parse_ratelimit(headers: Mapping[str, str]) -> Announced:
    """The RateLimit-Policy and RateLimit fields of an answer's headers."""
    rate = None
    policy = _parameters(headers.get("RateLimit-Policy", ""))
    if policy.get("q", 0) > 0:
        rate = policy["q"] / max(1, policy.get("w", 1))
    limit = _parameters(headers.get("RateLimit", ""))
    reset = limit.get("t")
    return Announced(rate, limit.get("r"), None if reset is None else float(reset))


class Pacer:
    """When each request may start, shared by the threads of one client."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rate: float | None = None,
    ) -> None:
        """``rate``: requests a second the user configured (a platform that announces
        nothing, DESIGN.md section 9); kept to exactly, and what the platform announces
        or teaches may only lower it."""
        self._configured = rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._announced: float | None = None  # requests per second the platform said
        self._learnt: float | None = None  # requests per second learnt from 429s
        self._next = 0.0  # the earliest start of the next request
        self._paused_until = 0.0
        self._starts: deque[float] = deque()  # the last second's starts, to learn from
        self._in_flight = 0  # requests started and not yet answered (or failed)
        self._credit = 0  # requests that may start at once, from the announced r

    @property
    def rate(self) -> float | None:
        """Requests per second this client keeps to (None: no limit known)."""
        known = self._announced * SAFETY if self._announced is not None else self._learnt
        if self._configured is None:
            return known
        return self._configured if known is None else min(known, self._configured)

    def wait(self) -> None:
        """Block until this thread's request may start."""
        with self._lock:
            now = self._monotonic()
            self._in_flight += 1
            rate = self.rate
            if self._credit >= 1 and self._paused_until <= now:
                self._credit -= 1  # a burst within what the platform says is left
                start = now
            else:
                start = max(now, self._next, self._paused_until)
            if rate is not None:
                self._next = max(self._next, start + 1.0 / rate)
            self._starts.append(start)
            while self._starts and self._starts[0] < start - 1.0:
                self._starts.popleft()
        if start > now:
            self._sleep(start - now)

    def done(self) -> None:
        """The request that waited has its answer (or failed)."""
        with self._lock:
            self._in_flight -= 1

    def learn(self, announced: Announced, *, status: int, retry_after: float | None) -> None:
        """What an answer teaches: the announced rate, a spent quota, a 429."""
        with self._lock:
            now = self._monotonic()
            if announced.rate is not None:
                self._announced = announced.rate
            if announced.remaining is not None and self._announced is not None:
                reserve = math.ceil(RESERVE * self._announced)
                others = self._in_flight - 1  # under way; r does not count them yet
                self._credit = max(0, announced.remaining - reserve - others)
            if announced.remaining == 0 and announced.reset is not None:
                self._pause(now + announced.reset)
            if status == 429:
                self._pause(now + (retry_after or 0.0))
                recent = sum(1 for t in self._starts if t >= now - 1.0)
                if self._announced is None and recent >= LEARN_MIN:
                    self._learnt = LEARNT_SHARE * recent
            elif self._learnt is not None and self._announced is None:
                self._learnt *= 1.0 + RECOVERY

    def _pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, until)
