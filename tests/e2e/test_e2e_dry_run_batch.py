"""Preflight in batches (issue 20 item 1): the plan's dry runs go as ``POST /v1/dry-runs``
of at most 500, answered as the single dry runs were; a platform without the endpoint
gets single dry runs. The sandbox is served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Repo

from reconciler.desired.loader import load_repository
from reconciler.model import Package
from reconciler.operations.reconcile import Reconciler
from reconciler.platform import base
from reconciler.platform.client import PlatformClient
from reconciler.platform.reconciler import ReconcilerPlatform
from reconciler.reconcile.plan import Plan
from reconciler.sandbox.seed import Seed, apply_seed
from reconciler.sandbox.server import ThreadedSandbox
from support.proxy import QuietHandler, relay, reply, request_body, serving
from support.repo import EXPERT

TOKEN = "studio-token"
SITES = 30
WITH_ACCOUNT = [f"client{n}@shop{n}.example" for n in range(8)]
WITHOUT_ACCOUNT = [f"nobody{n}@shop{n}.example" for n in range(4)]
NO_ROUTE = b'{"title": "Not Found", "status": 404, "detail": "No route."}'
HANDOVERS = WITH_ACCOUNT + WITHOUT_ACCOUNT  # 12, of which the last 4 are refused


def _site_id(n: int) -> str:
    return f"site-{n:02d}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Repo]:
    """30 sites of the studio, 12 of them handed over in their files (4 to people with no
    account), and the sandbox served over HTTP as the platform."""
    root = tmp_path / "repo"
    repo = Repo(root, {"NO_COLOR": "1", "SANDBOX_TOKEN": TOKEN})
    with ThreadedSandbox(tmp_path / "platform.db") as platform:
        people = [{"email": EXPERT, "kind": "expert", "token": TOKEN}]
        people += [{"email": email, "kind": "customer"} for email in WITH_ACCOUNT]
        sites = [
            {"id": _site_id(n), "name": _site_id(n), "owner": EXPERT, "billing_contact": EXPERT,
             "package": "free", "collaborators": {}}
            for n in range(SITES)
        ]  # fmt: skip
        apply_seed(platform.store, Seed.model_validate({"accounts": people, "sites": sites}))
        repo.write(
            "reconciler.yaml",
            f"expert: {EXPERT}\nplatform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n",
        )
        for n in range(SITES):
            owner = HANDOVERS[n] if n < len(HANDOVERS) else EXPERT
            repo.write(f"sites/{_site_id(n)}.yaml", f"id: {_site_id(n)}\nowner: {owner}\n")
        repo.platform = platform
        subprocess.run(["git", "init", "--quiet"], cwd=root, check=True)
        yield repo


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=5) as answer:
        counted: dict[str, Any] = json.load(answer)
    return counted


def plan_over(url: str, repo: Repo) -> Plan:
    with PlatformClient(url, TOKEN) as client:
        return Reconciler(load_repository(repo.root), ReconcilerPlatform.over(client)).plan()


def blocked(plan: Plan) -> list[str]:
    return [n.message for n in plan.notes if n.kind.value == "blocked"]


def refusal(email: str, site_id: str) -> str:
    return (
        f"the platform refuses the handover to {email} (transfer.start): There is no account "
        f"for {email}: the client must sign up first, then start the transfer again. It is "
        "held back from this plan and comes back once the platform would accept it."
    )


@pytest.fixture
def without_batches(served: Repo) -> Iterator[str]:
    """A proxy to the sandbox that answers 404 to ``POST /v1/dry-runs``, as a platform
    from before batches would; yields its URL."""
    assert served.platform is not None
    upstream = served.platform.url

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = request_body(self)
            if self.command == "POST" and self.path.split("?")[0] == "/v1/dry-runs":
                reply(self, 404, [("Content-Type", "application/problem+json")], NO_ROUTE)
                return
            answer = relay(self, upstream, body, timeout=10)
            reply(self, answer.status, answer.headers, answer.body)

        do_PUT = do_POST = do_DELETE = do_GET

    with serving(Handler) as url:
        yield url


def test_the_batch_holds_back_each_refused_handover_with_the_platforms_reason(
    served: Repo,
) -> None:
    assert served.platform is not None
    plan = plan_over(served.platform.url, served)

    handovers = [c.site for c in plan.changes if c.action.value == "transfer.start"]
    assert handovers == [_site_id(n) for n in range(len(WITH_ACCOUNT))]
    assert blocked(plan) == [
        refusal(email, _site_id(len(WITH_ACCOUNT) + n)) for n, email in enumerate(WITHOUT_ACCOUNT)
    ]
    assert stats(served.platform.url)["by_route"].get("POST /v1/dry-runs") == 1
    assert served.platform.store.transfers_of(_site_id(0)) == []  # a dry run changes nothing


def test_plan_makes_one_request_per_500_sites_and_per_500_dry_runs(served: Repo) -> None:
    assert served.platform is not None
    before = stats(served.platform.url)

    result = served.run("plan", "--format", "json")

    after = stats(served.platform.url)
    assert result.exit_code == 0, result.output
    assert len(blocked(Plan.model_validate_json(result.stdout))) == len(WITHOUT_ACCOUNT)
    made = sum(
        n - before["by_route"].get(route, 0)
        for route, n in after["by_route"].items()
        if route != "GET /sandbox/stats"  # the test's own look at the counters
    )
    sent_transfers = 0  # none sent yet (a listing of none is one of the "+2")
    bound = math.ceil(SITES / 500) + math.ceil(len(HANDOVERS) / 500) + sent_transfers + 2
    assert made <= bound, (made, after["by_route"])
    assert (
        after["by_route"]["POST /v1/dry-runs"] - before["by_route"].get("POST /v1/dry-runs", 0) == 1
    )
    assert not [r for r in after["by_route"] if r.startswith("POST /v1/sites/")]


def test_each_answer_of_a_batch_is_the_single_dry_runs(served: Repo) -> None:
    assert served.platform is not None
    version = served.platform.store.site(_site_id(0)).version
    asked: list[tuple[base.Write, int | None]] = [
        (base.StartTransfer(_site_id(0), WITH_ACCOUNT[0], True), version),  # accepted
        (base.StartTransfer(_site_id(1), WITHOUT_ACCOUNT[0], True), None),  # 409 no account
        (base.StartTransfer(_site_id(2), WITH_ACCOUNT[1], True), version + 7),  # 412 stale
        (base.Purchase("no-such-site", Package.PREMIUM), None),  # 404
        (base.DeleteCollaborator(_site_id(3), "nobody@x.example"), None),
    ]
    with PlatformClient(served.platform.url, TOKEN) as client:
        singles = [client.dry_run(write, if_match=if_match) for write, if_match in asked]
        batch = client.dry_run_batch(asked)

    def seen(answer: Any) -> Any:
        if answer is None:
            return None
        return (type(answer).__name__, answer.status, answer.message, answer.detail)

    assert [seen(a) for a in batch] == [seen(a) for a in singles]
    assert [seen(a) and seen(a)[0] for a in batch][:3] == [None, "Conflict", "StaleVersion"]


def test_a_platform_without_batches_gets_single_dry_runs_said_once_in_the_log(
    served: Repo, without_batches: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert served.platform is not None
    batched = plan_over(served.platform.url, served)
    before = stats(served.platform.url)["by_route"]

    with caplog.at_level(logging.INFO, logger="reconciler.platform"):
        single = plan_over(without_batches, served)

    after = stats(served.platform.url)["by_route"]
    assert single.changes == batched.changes
    assert blocked(single) == blocked(batched) != []
    assert after.get("POST /v1/dry-runs") == before.get("POST /v1/dry-runs")
    singles = "POST /v1/sites/{site_id}/transfers"
    assert after[singles] - before.get(singles, 0) == len(HANDOVERS)
    said = [r.getMessage() for r in caplog.records if "no batches of dry runs" in r.getMessage()]
    assert said == [
        f"{without_batches} has no batches of dry runs (POST /v1/dry-runs answered 404); "
        "single dry runs from now on"
    ]
