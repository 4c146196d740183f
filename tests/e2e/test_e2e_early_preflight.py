"""Dry runs asked while the files are still read (issue 20, plan and apply's start): as
soon as the listing is in, each full batch of the dry runs of the files read so far is
asked, and the plan's own preflight asks only the rest; the plan is the same as one
that asks everything at the end. The sandbox is served over HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e_support import Repo
from test_e2e_dry_run_batch import HANDOVERS, TOKEN, WITHOUT_ACCOUNT, blocked, stats
from test_e2e_dry_run_batch import served as served  # the fixture: 30 sites, 12 handed over

from reconciler.desired.loader import load_repository
from reconciler.operations import early_preflight
from reconciler.operations.early_preflight import EarlyPreflight
from reconciler.operations.reconcile import Reconciler
from reconciler.operations.workspace import observe
from reconciler.platform.client import PlatformClient
from reconciler.platform.reconciler import ReconcilerPlatform
from reconciler.reconcile.plan import Plan
from support.proxy import QuietHandler, relay, reply, request_body, serving
from support.repo import EXPERT

ENVIRON = {"SANDBOX_TOKEN": TOKEN}
UNAUTHORIZED = b'{"title": "Unauthorized", "status": 401, "detail": "Token not valid now."}'


def dry_run_requests(url: str) -> int:
    counted: int = stats(url)["by_route"].get("POST /v1/dry-runs", 0)
    return counted


def wait_until(condition: Callable[[], bool]) -> None:
    """Until ``condition`` holds (it is about another thread's request); fails after 30 s."""
    done = threading.Event()
    for _ in range(600):
        if condition():
            return
        done.wait(0.05)
    pytest.fail("the condition never held")


def plan_of(root: Path, *, preflight_early: bool) -> Plan:
    with Reconciler.open(root, ENVIRON, preflight_early=preflight_early) as reconciler:
        return reconciler.plan()


def test_a_full_batch_is_asked_before_the_last_file_is_read(served: Repo) -> None:
    assert served.platform is not None
    url = served.platform.url
    sites = load_repository(served.root).sites
    handed = [sites[f"site-{n:02d}"] for n in range(len(HANDOVERS))]
    with PlatformClient(url, TOKEN) as client:
        platform = ReconcilerPlatform.over(client)
        early = EarlyPreflight(EXPERT, batch=4, hand_over=1)
        asking = threading.Thread(target=early.run, args=(platform, observe(platform)))
        before = dry_run_requests(url)
        asking.start()
        for site in handed[:5]:
            early.add(site)

        wait_until(lambda: dry_run_requests(url) == before + 1)
        assert asking.is_alive()  # still waiting for files: the batch went meanwhile
        early.finish()
        asking.join(timeout=30)

        assert dry_run_requests(url) == before + 1  # the fifth waits for the plan's own
        asked = list(early.answers)
        assert [one.write.site_id for one in asked] == [site.id for site in handed[:4]]
        assert list(early.answers.values()) == platform.dry_run(asked)  # as asked singly
        assert all(answer is None for answer in early.answers.values())  # accounts exist


def test_the_plan_asks_only_the_dry_runs_not_asked_early(
    served: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert served.platform is not None
    url = served.platform.url
    reference = plan_of(served.root, preflight_early=False)
    monkeypatch.setattr(early_preflight, "BATCH", 5)  # 12 handovers: 2 batches early, 2 left
    before = dry_run_requests(url)

    plan = plan_of(served.root, preflight_early=True)

    assert dry_run_requests(url) - before == math.ceil(len(HANDOVERS) / 5)
    assert plan.changes == reference.changes
    assert plan.notes == reference.notes
    assert len(blocked(plan)) == len(WITHOUT_ACCOUNT)  # refused early (2) and late (2)


@pytest.fixture
def failing_once(served: Repo) -> Iterator[str]:
    """A proxy to the sandbox that answers the first ``POST /v1/dry-runs`` with a 401
    (the token refused for a moment: no verdict on any of its writes), then relays;
    yields its URL."""
    assert served.platform is not None
    upstream = served.platform.url
    failed = threading.Event()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = request_body(self)
            if self.path.split("?")[0] == "/v1/dry-runs" and not failed.is_set():
                failed.set()
                reply(self, 401, [("Content-Type", "application/problem+json")], UNAUTHORIZED)
                return
            answer = relay(self, upstream, body, timeout=10)
            reply(self, answer.status, answer.headers, answer.body)

        do_PUT = do_POST = do_DELETE = do_GET

    with serving(Handler) as url:
        yield url


def test_an_early_batch_that_failed_is_asked_again_by_the_plan(
    served: Repo,
    failing_once: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reference = plan_of(served.root, preflight_early=False)
    config = (served.root / "reconciler.yaml").read_text()
    assert served.platform is not None
    served.write("reconciler.yaml", config.replace(served.platform.url, failing_once))
    monkeypatch.setattr(early_preflight, "BATCH", 4)

    with caplog.at_level(logging.WARNING, logger="reconciler"):
        plan = plan_of(served.root, preflight_early=True)

    assert plan.changes == reference.changes
    assert plan.notes == reference.notes
    assert not [r for r in caplog.records if "could not dry-run" in r.getMessage()]
