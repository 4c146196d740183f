"""One budget for every thread of a client, learnt from the platform's RateLimit fields
(draft-ietf-httpapi-ratelimit-headers-11) and, when it sends none, from its 429s."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from platform_support import FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.platform.pacing import SAFETY, Announced, Pacer, parse_ratelimit
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.server import ThreadedSandbox
from support.clock import VirtualTime


@pytest.mark.parametrize(
    ("policy", "limit", "expected"),
    [
        ('"default";q=50;w=1', '"default";r=12;t=1', Announced(50.0, 12, 1.0)),
        ("default;q=100;w=60", "default;r=0;t=7", Announced(100 / 60, 0, 7.0)),
        ('"a";q=10, "b";q=1000;w=3600', '"a";r=3', Announced(10.0, 3, None)),
        ("", "", Announced()),
        ('"default";q=abc', "nonsense", Announced()),
        ('"default";q=0;w=1', '"default";t=2', Announced(None, None, 2.0)),
    ],
)
def test_the_fields_are_read_and_malformed_ones_ignored(
    policy: str, limit: str, expected: Announced
) -> None:
    headers = {"RateLimit-Policy": policy, "RateLimit": limit}
    assert parse_ratelimit({k: v for k, v in headers.items() if v}) == expected


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_requests_start_at_the_announced_rate_a_little_under_it() -> None:
    clock = FakeTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    pacer.wait()  # nothing known yet: no wait
    pacer.learn(Announced(10.0, None, None), status=200, retry_after=None)
    pacer.done()
    for _ in range(4):
        pacer.wait()
    assert clock.slept == [round(1 / (10 * SAFETY), 6)] * 3
    assert pacer.rate == pytest.approx(9.8)


def test_what_is_left_of_the_quota_may_start_at_once() -> None:
    clock = FakeTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    pacer.wait()
    pacer.wait()  # two under way; the first one's answer says 9 are left
    pacer.learn(Announced(10.0, 9, 1.0), status=200, retry_after=None)
    pacer.done()
    for _ in range(9):
        pacer.wait()
    # 9 left, less a reserve of 1 and the 1 still under way: 7 at once, then paced.
    assert clock.slept == [round(1 / (10 * SAFETY), 6)] * 2


def test_a_spent_quota_or_a_429_pauses_every_thread() -> None:
    clock = FakeTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    pacer.learn(Announced(None, 0, 2.0), status=200, retry_after=None)  # r=0;t=2
    pacer.wait()
    assert clock.slept == [2.0]
    pacer.learn(Announced(), status=429, retry_after=1.5)
    pacer.wait()
    assert clock.slept == [2.0, 1.5]


def test_without_fields_the_pace_is_learnt_from_a_429() -> None:
    clock = FakeTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(20):  # 20 requests within a second, the last one refused
        pacer.wait()
        clock.now += 0.04
    pacer.learn(Announced(), status=429, retry_after=0.0)
    assert pacer.rate == pytest.approx(0.9 * 20)
    pacer.learn(Announced(), status=200, retry_after=None)
    assert pacer.rate == pytest.approx(0.9 * 20 * 1.01)  # and creeps back up


def test_a_429_after_a_few_requests_only_pauses() -> None:
    """Three requests in a second do not explain a 429: no pace is learnt from them."""
    clock = FakeTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait()
    pacer.learn(Announced(), status=429, retry_after=0.5)
    assert pacer.rate is None
    pacer.wait()
    assert clock.slept == [0.5]


def test_threads_share_the_budget_instead_of_each_hitting_the_limit(tmp_path: Path) -> None:
    """8 threads, 48 reads, a platform allowing 20 a second: paced, (almost) no 429s.

    The sandbox's limiter and the client wait on one virtual clock, on which only
    waiting takes time: the pacer alone keeps the client within the limit, not the
    time the machine takes to answer (which on the wall clock helps it)."""
    clock = VirtualTime()
    faults = FaultSpec.parse("rate_limit=20")
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with ThreadedSandbox(tmp_path / "s.db", faults=faults, monotonic=clock.monotonic) as sandbox:
        ids = seed(sandbox, sites=6)
        with SandboxClient(
            sandbox.url, TOKENS[STUDIO], retry=FAST_RETRY, sleep=clock.sleep, pacer=pacer
        ) as client:
            with ThreadPoolExecutor(max_workers=8) as pool:
                sites = list(pool.map(client.get_site, ids * 8))
            stats = client.stats()
    assert len(sites) == 48
    assert stats.by_status.get("429", 0) <= 1, stats.by_status
