"""What the fake counts, for the adapter's tests and benchmarks (real Duda counts nothing
for you): requests by route and by status, the 429 answers, and grants sent empty."""

from __future__ import annotations

import threading
from collections import Counter

from pydantic import BaseModel, ConfigDict


class FakeStats(BaseModel):
    """A snapshot; also what ``GET /_fake/stats`` answers.

    Routes are named as Duda's reference names them, ``"GET /sites/multiscreen/{site}"``;
    a path no route matches counts as ``"unmatched"``.
    """

    model_config = ConfigDict(frozen=True)

    total: int = 0
    by_route: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_route_status: dict[str, dict[str, int]] = {}
    rate_limited: int = 0  # the 429 answers
    empty_grants: int = 0  # grants sent with no permissions (the adapter must never send one)

    def count(self, route: str, status: int | None = None) -> int:
        if status is None:
            return self.by_route.get(route, 0)
        return self.by_route_status.get(route, {}).get(str(status), 0)


class Recorder:
    """The counters behind ``FakeStats``, safe across the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: Counter[tuple[str, int]] = Counter()
        self._empty_grants = 0

    def answered(self, route: str, status: int) -> None:
        with self._lock:
            self._pairs[(route, status)] += 1

    def empty_grant(self) -> None:
        with self._lock:
            self._empty_grants += 1

    def reset(self) -> None:
        with self._lock:
            self._pairs.clear()
            self._empty_grants = 0

    def snapshot(self) -> FakeStats:
        with self._lock:
            pairs = dict(self._pairs)
            empty = self._empty_grants
        by_route: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        by_route_status: dict[str, dict[str, int]] = {}
        for (route, status), count in sorted(pairs.items()):
            by_route[route] += count
            by_status[str(status)] += count
            by_route_status.setdefault(route, {})[str(status)] = count
        return FakeStats(
            total=sum(pairs.values()),
            by_route=dict(by_route),
            by_status=dict(by_status),
            by_route_status=by_route_status,
            rate_limited=by_status.get("429", 0),
            empty_grants=empty,
        )
