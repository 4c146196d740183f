"""A platform that echoes the token, drips its answers or rate limits forever.

Each platform here is a tiny HTTP server on 127.0.0.1 that misbehaves on purpose; the
client must keep the token secret, finish every request within its deadline, and give
up on a 429 storm with a clear error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner
from platform_support import ManualDeadlines, answer, hostile_platform

from reconciler.cli import cli
from reconciler.platform.client import PlatformClient
from reconciler.platform.errors import RateLimited, ServerError, TransportError
from reconciler.platform.pacing import Pacer
from reconciler.platform.transport import RetryPolicy
from support.clock import VirtualTime

TOKEN = "s3cr3t-T0ken.with/odd+chars=="
BASIC = "dXNlcjpwYXNzd29yZA=="  # user:password, as a platform might quote it


def _plan_against(url: str, tmp_path: Path) -> tuple[int, str]:
    (tmp_path / "sites").mkdir()
    (tmp_path / "reconciler.yaml").write_text(
        f"expert: studio@pixel.example\nplatform:\n  url: {url}\n  token_env: PLATFORM_TOKEN\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli,
        ["--root", str(tmp_path), "-vv", "plan"],
        env={"PLATFORM_TOKEN": TOKEN, "NO_COLOR": "1"},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def _echo_problem(handler: BaseHTTPRequestHandler) -> None:
    detail = (
        f"bad request; you sent Authorization: {handler.headers['Authorization']} "
        f"(token {TOKEN}, proxy Basic {BASIC})"
    )
    body = json.dumps({"title": f"Bad {TOKEN}", "status": 400, "detail": detail})
    answer(handler, 400, body.replace("/", "\\/"))  # JSON may escape the token's slash


def _echo_text(handler: BaseHTTPRequestHandler) -> None:
    answer(handler, 500, f"upstream said: {handler.headers}", content_type="text/plain")


@pytest.mark.parametrize("respond", [_echo_problem, _echo_text], ids=["problem", "text"])
def test_plan_never_prints_a_token_the_platform_echoes(
    respond: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with hostile_platform(respond) as url:  # type: ignore[arg-type]
        code, output = _plan_against(url, tmp_path)
    shown = output + "\n".join(record.getMessage() for record in caplog.records)

    assert code == 1
    assert "GET /v1/me failed" in output
    assert "Bearer ***" in output
    assert TOKEN not in shown
    assert BASIC not in shown


Respond = Callable[[BaseHTTPRequestHandler], None]


def _drip_body(deadlines: ManualDeadlines) -> Respond:
    """Headers at once, then one byte of the body every 0.2 s (it would take 200 s);
    the deadline passes after the third byte."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for n in range(1000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            if n == 2:
                deadlines.expire_current()
            time.sleep(0.2)

    return respond


def _drip_headers(deadlines: ManualDeadlines) -> Respond:
    """The status line, then one more header every 0.2 s, never the end of them; the
    deadline passes after the third."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(1000):
            handler.wfile.write(f"X-Slow-{n}: 1\r\n".encode())
            handler.wfile.flush()
            if n == 2:
                deadlines.expire_current()
            time.sleep(0.2)

    return respond


@pytest.mark.parametrize("drip", [_drip_body, _drip_headers], ids=["body", "headers"])
def test_a_dripping_answer_ends_at_the_deadline(drip: Callable[[ManualDeadlines], Respond]) -> None:
    deadlines = ManualDeadlines()
    retry = RetryPolicy(max_attempts=2, base_delay=0.01)
    with hostile_platform(drip(deadlines)) as url:
        client = PlatformClient(url, TOKEN, retry=retry, deadline=1.0, deadline_timer=deadlines)
        with client, pytest.raises(TransportError) as caught:
            client.me()

    # Each of the two attempts had 1 s in all, and ended when it ran out mid-answer
    # (the answer would have taken 200 s).
    assert deadlines.armed == [1.0, 1.0]
    assert caught.value.message.startswith(
        f"GET /v1/me: no complete answer from {url} within the deadline of 1 s"
    )
    assert caught.value.message.endswith("; gave up after 2 attempts")


def test_a_platform_that_always_drips_is_tried_twice_not_max_attempts_times() -> None:
    """Five attempts of a full deadline each held a plan for five minutes; an answer
    that missed its deadline once and again is not going to come."""
    deadlines = ManualDeadlines()
    retry = RetryPolicy(max_attempts=5, base_delay=0.01)
    with hostile_platform(_drip_body(deadlines)) as url:
        client = PlatformClient(url, TOKEN, retry=retry, deadline=1.0, deadline_timer=deadlines)
        with client, pytest.raises(TransportError) as caught:
            client.me()

    assert deadlines.armed == [1.0, 1.0]
    assert caught.value.message.endswith("; gave up after 2 attempts")


class _Counter:
    def __init__(self) -> None:
        self.requests = 0


def test_a_429_storm_with_retry_after_0_gives_up_with_a_clear_error() -> None:
    seen = _Counter()

    def storm(handler: BaseHTTPRequestHandler) -> None:
        seen.requests += 1
        body = json.dumps({"title": "Too Many Requests", "status": 429, "detail": "slow down"})
        answer(handler, 429, body, headers={"Retry-After": "0"})

    retry = RetryPolicy(base_delay=0.001, max_rate_limited=12)
    clock = VirtualTime()  # the waits between the answers 429, on no wall clock
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with (
        hostile_platform(storm) as url,
        PlatformClient(url, TOKEN, retry=retry, sleep=clock.sleep, pacer=pacer) as client,
        pytest.raises(RateLimited) as caught,
    ):
        client.me()

    assert seen.requests == 12
    assert caught.value.message == (
        "GET /v1/me failed (429): slow down; gave up after 12 attempts answered 429 "
        "(the platform's rate limit did not let up)"
    )


def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    def far_future(handler: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"title": "Too Many Requests", "status": 429, "detail": "come back"})
        answer(handler, 429, body, headers={"Retry-After": "3600"})

    retry = RetryPolicy(max_rate_limit_wait=5.0)
    clock = VirtualTime()
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with (
        hostile_platform(far_future) as url,
        PlatformClient(url, TOKEN, retry=retry, sleep=clock.sleep, pacer=pacer) as client,
        pytest.raises(RateLimited) as caught,
    ):
        client.me()

    assert clock.slept == []  # neither a retry nor the pacer waited
    assert caught.value.message == (
        "GET /v1/me failed (429): come back; the platform asks to wait 3600 s, more than "
        "the 5 s this client waits for its rate limit in all"
    )


def test_a_503_storm_gives_up_after_max_attempts() -> None:
    seen = _Counter()

    def down(handler: BaseHTTPRequestHandler) -> None:
        seen.requests += 1
        answer(handler, 503, "maintenance", content_type="text/plain", headers={"Retry-After": "0"})

    retry = RetryPolicy(max_attempts=4, base_delay=0.001)
    clock = VirtualTime()  # the backoff between attempts, on no wall clock
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with (
        hostile_platform(down) as url,
        PlatformClient(url, TOKEN, retry=retry, sleep=clock.sleep, pacer=pacer) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.me()

    assert seen.requests == 4
    assert caught.value.message == "GET /v1/me failed (503): maintenance; gave up after 4 attempts"


def test_a_token_quoted_in_the_data_is_cut_out() -> None:
    def listing(handler: BaseHTTPRequestHandler) -> None:
        site = {
            "id": "leaky", "name": f"Leaky ({TOKEN})", "owner": "studio@pixel.example",
            "billing_contact": "studio@pixel.example", "package": "free", "version": 1,
        }  # fmt: skip
        answer(handler, 200, json.dumps({"items": [site]}), content_type="application/json")

    with hostile_platform(listing) as url, PlatformClient(url, TOKEN) as client:
        sites = list(client.iter_sites())

    assert [site.name for site in sites] == ["Leaky (***)"]
