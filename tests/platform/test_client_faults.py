"""Under injected 503s, 429s and dropped answers, each operation takes effect once."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from platform_support import ANNA, FAST_RETRY, STUDIO, TOKENS, seed

from reconciler.model import Package, Role
from reconciler.platform.errors import ServerError, TransportError
from reconciler.platform.pacing import Pacer
from reconciler.platform.transport import RetryPolicy
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.server import ThreadedSandbox
from support.clock import VirtualTime


def test_every_operation_takes_effect_exactly_once(tmp_path: Path) -> None:
    faults = FaultSpec.parse("error_rate=0.25,drop_rate=0.25,seed=11")
    clock = VirtualTime()  # the backoff between retries, on no wall clock
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.sleep)
    with ThreadedSandbox(tmp_path / "s.db", faults=faults) as sandbox:
        ids = seed(sandbox, sites=12)
        with SandboxClient(
            sandbox.url, TOKENS[STUDIO], retry=FAST_RETRY, sleep=clock.sleep, pacer=pacer
        ) as client:
            for site_id in ids:
                version = client.get_site(site_id).version
                added = client.put_collaborator(site_id, ANNA, Role.EDITOR, if_match=version)
                bought = client.purchase(site_id, Package.PREMIUM, if_match=added.version)
                client.start_transfer(site_id, ANNA, True, if_match=bought.version)
            stats = client.stats()
        for site_id in ids:
            site = sandbox.store.site(site_id)
            assert site.version == 4  # three writes, each applied once
            assert len(sandbox.store.invoices_of(site_id)) == 1
            assert len(sandbox.store.transfers_of(site_id)) == 1
    # The faults really happened.
    assert stats.by_status.get("dropped", 0) > 0
    assert stats.by_status.get("503", 0) > 0


def test_concurrent_clients_ride_out_sustained_rate_limiting(tmp_path: Path) -> None:
    clock = VirtualTime()  # the sandbox's limiter, every pacer and every retry wait on it
    faults = FaultSpec.parse("rate_limit=50,drop_rate=0.05,seed=5")
    with (
        ThreadedSandbox(tmp_path / "s.db", faults=faults, monotonic=clock.monotonic) as sandbox,
        ExitStack() as stack,
    ):
        ids = seed(sandbox, sites=40)
        # A client per site, all with the same token: each paces itself alone, so
        # together they exceed the limit (one client's threads share one budget). Each
        # call is made by every client before the next: 40 clients asking at once, by
        # construction rather than by how the threads happen to be scheduled (one at a
        # time, each client's pacer would keep them all within the limit).
        clients = [
            stack.enter_context(
                SandboxClient(
                    sandbox.url,
                    TOKENS[STUDIO],
                    retry=FAST_RETRY,
                    sleep=clock.sleep,
                    pacer=Pacer(monotonic=clock.monotonic, sleep=clock.sleep),
                )
            )
            for _ in ids
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda c, site: c.get_site(site), clients, ids))
            list(pool.map(lambda c, site: c.purchase(site, Package.PREMIUM), clients, ids))
            written = pool.map(
                lambda c, site: c.put_collaborator(site, ANNA, Role.VIEWER), clients, ids
            )
            versions = [result.version for result in written]
        with SandboxClient(sandbox.url, TOKENS[STUDIO]) as watcher:
            stats = watcher.stats()
        assert versions == [3] * len(ids)
        assert all(len(sandbox.store.invoices_of(site_id)) == 1 for site_id in ids)
    assert stats.by_status.get("429", 0) > 0


def test_retries_are_bounded(tmp_path: Path) -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=3, base_delay=0.01)
    with ThreadedSandbox(tmp_path / "s.db", faults=FaultSpec.parse("error_rate=1")) as sandbox:
        seed(sandbox)
        with (
            SandboxClient(sandbox.url, TOKENS[STUDIO], retry=retry, sleep=sleeps.append) as client,
            pytest.raises(ServerError) as caught,
        ):
            client.purchase("site-000", Package.PREMIUM)
        assert "temporarily unavailable" in str(caught.value)
        assert len(sleeps) == 2
        assert all(0 <= s <= 0.02 for s in sleeps)
        assert sandbox.store.invoices_of("site-000") == []


def test_no_answer_at_all_is_a_transport_error(tmp_path: Path) -> None:
    with ThreadedSandbox(tmp_path / "s.db", faults=FaultSpec.parse("drop_rate=1")) as sandbox:
        seed(sandbox)
        retry = RetryPolicy(max_attempts=2, base_delay=0.0)
        with SandboxClient(sandbox.url, TOKENS[STUDIO], retry=retry) as client:
            with pytest.raises(TransportError) as caught:
                client.purchase("site-000", Package.PREMIUM)
            assert caught.value.retryable
            assert "no answer from http://127.0.0.1" in str(caught.value)
        # Two attempts, same key: the purchase happened once.
        assert len(sandbox.store.invoices_of("site-000")) == 1


def test_a_platform_that_is_not_listening_is_named_in_words() -> None:
    # A port with nothing behind it: the user reads "Connection refused", not urllib3's
    # pool and connection classes cut off at 200 characters.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    retry = RetryPolicy(max_attempts=2, base_delay=0.0)
    url = f"http://127.0.0.1:{port}"
    with (
        SandboxClient(url, TOKENS[STUDIO], retry=retry, sleep=lambda _: None) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.get_site("site-000")

    assert str(caught.value) == (
        f"GET /v1/sites/site-000: no answer from {url} (Connection refused); "
        "gave up after 2 attempts"
    )
