"""Fault injection and rate limiting for the sandbox, configured by a ``--faults`` spec.

``error_rate=0.1,drop_rate=0.05,latency_ms=20,rate_limit=50,seed=7``

- ``error_rate``: share of requests answered 503 *without* doing the work;
- ``drop_rate``: share of requests carried out whose connection is then closed without
  an answer, so that the client cannot know whether they took effect;
- ``latency_ms``: a delay before every answer;
- ``rate_limit``: requests per second per token (a token bucket holding one second's
  worth); above it, 429 with ``Retry-After``;
- ``seed``: makes the random choices repeatable.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

from reconciler.errors import ConfigError


class FaultSpecError(ConfigError):
    """A ``--faults`` spec that cannot be understood."""


@dataclass(frozen=True)
class FaultSpec:
    """Which faults the sandbox injects; the default injects none."""

    error_rate: float = 0.0
    drop_rate: float = 0.0
    latency_ms: int = 0
    rate_limit: float | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse ``key=value,...``; a bad key or value raises :class:`FaultSpecError`."""
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep:
                raise FaultSpecError(f"fault spec {spec!r}: {part!r} is not key=value")
            if key not in _PARSERS:
                known = ", ".join(_PARSERS)
                raise FaultSpecError(f"fault spec {spec!r}: unknown key {key!r} (known: {known})")
            values[key] = _PARSERS[key](key, raw.strip())
        return cls(**values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)]
        return ",".join(parts)


def _rate(key: str, raw: str) -> float:
    value = _number(key, raw)
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"fault spec: {key} must be between 0 and 1, got {raw!r}")
    return value


def _positive(key: str, raw: str) -> float:
    value = _number(key, raw)
    if value <= 0:
        raise FaultSpecError(f"fault spec: {key} must be more than 0, got {raw!r}")
    return value


def _non_negative_int(key: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FaultSpecError(f"fault spec: {key} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise FaultSpecError(f"fault spec: {key} must not be negative, got {raw!r}")
    return value


def _number(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault spec: {key} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise FaultSpecError(f"fault spec: {key} must be a finite number, got {raw!r}")
    return value


_PARSERS: dict[str, Callable[[str, str], float | int]] = {
    "error_rate": _rate,
    "drop_rate": _rate,
    "latency_ms": _non_negative_int,
    "rate_limit": _positive,
    "seed": _non_negative_int,
}


class Dice:
    """The random draws of a fault spec; seeded specs repeat the same sequence."""

    def __init__(self, spec: FaultSpec) -> None:
        self._spec = spec
        self._random = random.Random(spec.seed)
        self._lock = threading.Lock()

    def fail(self) -> bool:
        return self._roll(self._spec.error_rate)

    def drop(self) -> bool:
        return self._roll(self._spec.drop_rate)

    def _roll(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._random.random() < rate


@dataclass(frozen=True)
class Quota:
    """One request's standing against its token's bucket.

    ``remaining`` and ``reset`` are what the IETF RateLimit field announces (``r`` and
    ``t``): requests left now, and whole seconds until the bucket is full again (for a
    refused request: until one more is allowed, its ``Retry-After``).
    """

    allowed: bool
    remaining: int
    reset: int


class RateLimiter:
    """Token buckets per API token: ``rate`` requests per second, bursts up to ``rate``."""

    def __init__(self, rate: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def policy(self) -> str:
        """The RateLimit-Policy field: ``q`` requests per window of ``w`` = 1 second."""
        return f'"default";q={math.floor(self._rate)};w=1'

    def take(self, key: str) -> Quota:
        """Spend one request of ``key``'s bucket, if it holds one."""
        with self._lock:
            now = self._monotonic()
            tokens, last = self._buckets.get(key, (self._rate, now))
            tokens = min(self._rate, tokens + (now - last) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        if allowed:
            return Quota(True, math.floor(tokens), math.ceil((self._rate - tokens) / self._rate))
        return Quota(False, 0, max(1, math.ceil((1.0 - tokens) / self._rate)))

    def retry_after(self, key: str) -> int | None:
        """None when the request may go ahead, else the whole seconds to wait (>= 1)."""
        quota = self.take(key)
        return None if quota.allowed else quota.reset
