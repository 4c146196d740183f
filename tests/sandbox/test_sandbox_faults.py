"""Injected faults: 503 without effect, dropped answers with effect, latency, 429.

The sandbox waits and counts its rate by clocks the tests give it: time stands still
unless a test moves it, so no answer here depends on how fast the machine is.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sandbox_support import STUDIO, TOKENS, FakeClock, seed_people

from reconciler.sandbox.faults import FaultSpec, FaultSpecError, RateLimiter
from reconciler.sandbox.server import ThreadedSandbox

AUTH = {"Authorization": f"Bearer {TOKENS[STUDIO]}"}
PURCHASE = "/v1/sites/acme-bakery/purchases"


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


class StillTime:
    """A monotonic clock that stands still until moved, and a sleep that only notes
    how long it was asked to wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@contextmanager
def faulty_sandbox(
    tmp_path: Path, spec: str, time: StillTime | None = None
) -> Iterator[ThreadedSandbox]:
    """A seeded sandbox injecting the faults of ``spec``, on ``time``'s clocks."""
    faults = FaultSpec.parse(spec)
    time = time or StillTime()
    with ThreadedSandbox(
        tmp_path / "faulty.db",
        faults=faults,
        clock=FakeClock(),
        sleep=time.sleep,
        monotonic=time.monotonic,
    ) as sandbox:
        seed_people(sandbox)
        yield sandbox


def test_a_fault_spec_is_parsed() -> None:
    spec = FaultSpec.parse("error_rate=0.1, drop_rate=0.05,latency_ms=20,rate_limit=50,seed=3")
    assert spec == FaultSpec(error_rate=0.1, drop_rate=0.05, latency_ms=20, rate_limit=50.0, seed=3)
    assert FaultSpec.parse("") == FaultSpec()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("error_rate=2", "error_rate must be between 0 and 1, got '2'"),
        ("drop_rate=lots", "drop_rate must be a number, got 'lots'"),
        ("latency_ms=-5", "latency_ms must not be negative"),
        ("latency_ms=1.5", "latency_ms must be a whole number"),
        ("rate_limit=0", "rate_limit must be more than 0"),
        ("error_rate=nan", "error_rate must be a finite number"),
        ("jitter=3", "unknown key 'jitter' (known: error_rate, drop_rate, latency_ms"),
        ("error_rate", "'error_rate' is not key=value"),
    ],
)
def test_a_bad_fault_spec_is_explained(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        FaultSpec.parse(spec)
    assert message in str(caught.value)


def test_an_injected_error_does_no_work(tmp_path: Path, session: requests.Session) -> None:
    with faulty_sandbox(tmp_path, "error_rate=1") as sandbox:
        response = session.post(sandbox.url + PURCHASE, json={"package": "premium"}, headers=AUTH)
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "retry later" in response.json()["detail"]
        assert sandbox.store.invoices_of("acme-bakery") == []
        stats = session.get(sandbox.url + "/sandbox/stats").json()
        assert stats["by_status"] == {"503": 1}


def test_a_dropped_answer_did_the_work(tmp_path: Path, session: requests.Session) -> None:
    with faulty_sandbox(tmp_path, "drop_rate=1") as sandbox:
        with pytest.raises(requests.ConnectionError):
            session.post(sandbox.url + PURCHASE, json={"package": "premium"}, headers=AUTH)
        assert len(sandbox.store.invoices_of("acme-bakery")) == 1
        # The sandbox's own pages are never faulted.
        assert session.get(sandbox.url + "/openapi.json").status_code == 200
        stats = session.get(sandbox.url + "/sandbox/stats").json()
        routes = {"POST /v1/sites/{site_id}/purchases": 1, "GET /openapi.json": 1}
        assert stats["by_route"] == routes
        assert stats["by_status"] == {"dropped": 1, "200": 1}


def test_latency_delays_every_answer(tmp_path: Path, session: requests.Session) -> None:
    time = StillTime()
    with faulty_sandbox(tmp_path, "latency_ms=150", time) as sandbox:
        assert session.get(sandbox.url + "/v1/me", headers=AUTH).status_code == 200
        assert session.get(sandbox.url + "/v1/nowhere", headers=AUTH).status_code == 404
        assert session.get(sandbox.url + "/sandbox/stats").status_code == 200  # not faulted
    assert time.slept == [0.15, 0.15]


def test_above_the_rate_limit_the_answer_is_429_with_retry_after(
    tmp_path: Path, session: requests.Session
) -> None:
    with faulty_sandbox(tmp_path, "rate_limit=5") as sandbox:
        statuses = [session.get(sandbox.url + "/v1/me", headers=AUTH) for _ in range(8)]
        limited = [r for r in statuses if r.status_code == 429]
        assert [r.status_code for r in statuses[:5]] == [200] * 5
        assert limited == statuses[5:]  # time stands still: the bucket does not refill
        assert int(limited[0].headers["Retry-After"]) >= 1
        assert "More than 5 requests per second" in limited[0].json()["detail"]
        # Another token has its own bucket.
        other = {"Authorization": f"Bearer {TOKENS['anna@acme-bakery.example']}"}
        assert session.get(sandbox.url + "/v1/me", headers=other).status_code == 200


def test_the_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, monotonic=lambda: now[0])
    assert [limiter.retry_after("t") for _ in range(3)] == [None, None, 1]
    now[0] += 0.5
    assert limiter.retry_after("t") is None
    assert limiter.retry_after("t") == 1


def test_every_answer_announces_the_rate_limit_with_the_ietf_fields(
    tmp_path: Path, session: requests.Session
) -> None:
    """draft-ietf-httpapi-ratelimit-headers-11, as DESIGN.md section 6 writes them."""
    with faulty_sandbox(tmp_path, "rate_limit=3") as sandbox:
        answers = [session.get(sandbox.url + "/v1/me", headers=AUTH) for _ in range(4)]
        missing = session.get(sandbox.url + "/v1/sites/nope", headers=AUTH)
    policies = {a.headers["RateLimit-Policy"] for a in [*answers, missing]}
    assert policies == {'"default";q=3;w=1'}
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit"] for a in answers] == [
        '"default";r=2;t=1',
        '"default";r=1;t=1',
        '"default";r=0;t=1',
        '"default";r=0;t=1',
    ]
    assert answers[3].headers["Retry-After"] == "1"  # the same moment as t
    assert missing.status_code == 429
    assert "RateLimit" in missing.headers


def test_the_bucket_refills_as_the_sandbox_clock_moves(
    tmp_path: Path, session: requests.Session
) -> None:
    time = StillTime()
    with faulty_sandbox(tmp_path, "rate_limit=2", time) as sandbox:
        me = sandbox.url + "/v1/me"
        spent = [session.get(me, headers=AUTH).status_code for _ in range(3)]
        time.now += 0.5  # one request's worth at 2 a second
        after = [session.get(me, headers=AUTH).status_code for _ in range(2)]
    assert (spent, after) == ([200, 200, 429], [200, 429])


def test_without_a_rate_limit_nothing_is_announced(
    tmp_path: Path, session: requests.Session
) -> None:
    with faulty_sandbox(tmp_path, "") as sandbox:
        answer = session.get(sandbox.url + "/v1/me", headers=AUTH)
    assert "RateLimit" not in answer.headers
    assert "RateLimit-Policy" not in answer.headers


def test_seeded_faults_repeat(tmp_path: Path, session: requests.Session) -> None:
    outcomes = []
    for run in range(2):
        sandbox = ThreadedSandbox(
            tmp_path / f"run{run}.db", faults=FaultSpec.parse("error_rate=0.5,seed=42")
        )
        with sandbox:
            seed_people(sandbox)
            outcomes.append(
                [session.get(sandbox.url + "/v1/me", headers=AUTH).status_code for _ in range(12)]
            )
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


class HangUp(StillTime):
    """While the sandbox waits out the latency, the client goes away."""

    def __init__(self) -> None:
        super().__init__()
        self.client: socket.socket | None = None

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        assert self.client is not None
        self.client.shutdown(socket.SHUT_RDWR)


def test_a_request_whose_client_hangs_up_during_the_latency_is_not_carried_out(
    tmp_path: Path, session: requests.Session
) -> None:
    """As a client killed mid-request: the platform has no one to answer, and does nothing."""
    time = HangUp()
    body = b'{"package": "premium"}'
    request = (
        f"POST {PURCHASE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        f"{TOKENS[STUDIO]}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with faulty_sandbox(tmp_path, "latency_ms=100", time) as sandbox:
        port = int(sandbox.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            time.client = client
            client.sendall(request)
            assert client.recv(1024) == b""  # no answer: the connection just ends
        # The server's thread counts it just after: wait for that. Each poll before the
        # last is itself counted, as a 200 of /sandbox/stats.
        polls = 0
        while polls < 1000:
            polls += 1
            stats = session.get(sandbox.url + "/sandbox/stats").json()
            if "abandoned" in stats["by_status"]:
                break
            threading.Event().wait(0.01)
        earlier_polls = {"200": polls - 1} if polls > 1 else {}
        assert stats["by_status"] == {"abandoned": 1, **earlier_polls}
        assert sandbox.store.invoices_of("acme-bakery") == []
