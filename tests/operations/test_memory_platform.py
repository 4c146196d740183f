"""The in-memory platform is the sandbox, only without the socket (DESIGN.md section 4).

One scenario runs twice, through the operations with an injected platform: once on the
in-memory platform (reconciler.sandbox.memory) and once through the same client over
real HTTP against the sandbox served on 127.0.0.1. The scenario is the example
repository plus a handover that was declined, one to someone without an account, and a
pending handover to the wrong recipient: plan, apply, the client accepts, two weeks
pass, status, plan again, import. Every result must be the same on both, down to the
requests the platform was sent: the plans, the apply reports, the platform's state
after each step, the status report, the imported file and the request counters.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import Package
from reconciler.operations.apply import ApplyOperation
from reconciler.operations.import_ import ImportOperation
from reconciler.operations.plan import PlanOperation
from reconciler.operations.status import StatusOperation
from reconciler.platform.pacing import Pacer
from reconciler.platform.reconciler import ReconcilerPlatform
from reconciler.reconcile.apply import ChangeResult
from reconciler.reconcile.plan import Plan
from reconciler.render.status import as_json
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.memory import MemorySandbox
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import SandboxStore
from support.clock import VirtualTime
from support.repo import EXPERT, Repo
from support.sandbox import FakeClock

EXAMPLE = Path(__file__).resolve().parents[2]
MARCO = "marco@bistro-verde.example"
ANNA = "anna@acme-bakery.example"
TOM = "tom@freelance.example"
NOBODY = "nobody@no-account.example"
TRANSFER_ID = re.compile(r"tr_[0-9a-f]{20}")
FINGERPRINT = re.compile(r'"fingerprint": "sha256:[0-9a-f]+"')


Progress = Callable[[ChangeResult], None]


@dataclass
class Side:
    """One platform of the comparison: its store, and the client of an account."""

    store: SandboxStore
    client: Callable[[str], SandboxClient]

    def platform(self) -> ReconcilerPlatform:
        return ReconcilerPlatform.over(self.client("studio-token"))


@contextlib.contextmanager
def in_memory(tmp_path: Path, clock: FakeClock) -> Iterator[Side]:
    with MemorySandbox(clock=clock) as sandbox:
        yield Side(sandbox.store, sandbox.client)


@contextlib.contextmanager
def over_http(tmp_path: Path, clock: FakeClock) -> Iterator[Side]:
    with ThreadedSandbox(tmp_path / "platform.db", clock=clock) as sandbox:
        yield Side(sandbox.store, lambda token: SandboxClient(sandbox.url, token))


class Hooks:
    """What apply asks of its caller: nothing to show, nothing to confirm."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def show_plan(self, plan: Plan) -> None:
        return None

    def confirm(self, plan: Plan) -> None:
        return None

    def progress(
        self, plan: Plan
    ) -> contextlib.AbstractContextManager[Callable[[ChangeResult], None]]:
        return contextlib.nullcontext(lambda result: None)


def repository(root: Path) -> Repo:
    """The example repository, and three more sites: bakery-two hands over to marco, who
    declined before; corner-cafe to someone without an account; harbor-annex has a
    handover pending to tom, the file asks for marco."""
    root.mkdir()
    for name in ("reconciler.yaml", "people.yaml", "sandbox.seed.yaml"):
        shutil.copy(EXAMPLE / name, root / name)
    shutil.copytree(EXAMPLE / "sites", root / "sites")
    repo = Repo(root)
    repo.site("bakery-two", f"id: bakery-two\nowner: {MARCO}\ncollaborators: {{}}\n")
    repo.site("corner-cafe", f"id: corner-cafe\nowner: {NOBODY}\n")
    repo.site("harbor-annex", f"id: harbor-annex\nowner: {MARCO}\n")
    return repo


def prepare(store: SandboxStore, repo: Repo, clock: FakeClock) -> None:
    """The seed, then the platform's history: each step a minute apart, so that every
    transfer has a moment of its own on both platforms."""
    seed_file(store, repo.root / "sandbox.seed.yaml")
    with store.transaction() as tx:
        for site_id in ("bakery-two", "corner-cafe", "harbor-annex"):
            tx.put_site(
                site_id,
                name=site_id.title(),
                owner=EXPERT,
                billing_contact=EXPERT,
                package=Package.FREE,
                collaborators={},
            )
    for site_id, to in (("bakery-two", MARCO), ("harbor-annex", TOM)):
        clock.advance(minutes=1)
        with store.transaction() as tx:
            tx.start_transfer(EXPERT, site_id, to, False, None)
    clock.advance(minutes=1)
    store.respond_to_transfer("bakery-two", accept=False)
    clock.advance(minutes=1)


def labels(store: SandboxStore) -> dict[str, str]:
    """Each transfer's id -> what it is (site, recipient, when), the same on both."""
    named: dict[str, str] = {}
    for site in ("acme-bakery", "bakery-two", "corner-cafe", "harbor-annex", "pixel-studio"):
        for transfer in store.transfers_of(site):
            named[transfer.id] = f"<{site} to {transfer.to} at {transfer.created_at:%H:%M}>"
    return named


def normalised(value: Any, store: SandboxStore) -> Any:
    """``value`` as JSON, with the transfers' random ids named by what they are."""
    text = json.dumps(value, sort_keys=True, default=str)
    named = labels(store)
    text = TRANSFER_ID.sub(lambda found: named.get(found.group(), "<unknown>"), text)
    if TRANSFER_ID.search(json.dumps(value, default=str)):  # the fingerprint covers them
        text = FINGERPRINT.sub('"fingerprint": "<of the ids>"', text)
    return json.loads(text)


def observed(side: Side) -> Any:
    """Everything the expert and a recipient see of the platform (listings in an order
    of their own: transfers of one moment come in the order of their random ids)."""
    platform = side.platform()
    recipient = side.client("anna-token")
    seen = {
        "sites": [site.model_dump(mode="json") for site in platform.sites()],
        "sent": [t.model_dump(mode="json") for t in platform.sent_transfers()],
        "acme history": [t.model_dump(mode="json") for t in platform.site_transfers("acme-bakery")],
        "anna received": [t.model_dump(mode="json") for t in recipient.iter_transfers()],
    }
    listed = {key: sorted(normalised(items, side.store), key=str) for key, items in seen.items()}
    return {**listed, "clock": str(platform.clock())}


def scenario(tmp_path: Path, serve: Callable[[Path, FakeClock], Any]) -> dict[str, Any]:
    """Every result of the scenario on one platform."""
    clock = FakeClock()
    repo = repository(tmp_path / "repo")
    results: dict[str, Any] = {}
    with serve(tmp_path, clock) as side:
        prepare(side.store, repo, clock)
        results["before"] = observed(side)
        plan = PlanOperation(repo.root, {}, platform=side.platform()).run(show=lambda _: None)
        results["plan"] = normalised(plan.model_dump(mode="json"), side.store)
        hooks = Hooks()
        applied = ApplyOperation(repo.root, {}, yes=True, platform=side.platform()).run(hooks)
        assert applied.report is not None
        report = normalised(applied.report.to_json()["results"], side.store)
        results["apply"] = sorted(report, key=str)
        results["warnings"] = [w.replace(str(repo.root), "<root>") for w in hooks.warnings]
        results["applied"] = observed(side)
        side.store.respond_to_transfer("acme-bakery", accept=True)
        clock.advance(days=15)  # the handover to marco expires
        status = StatusOperation(repo.root, {}, platform=side.platform()).run()
        results["status"] = normalised(json.loads(as_json(status)), side.store)
        again = PlanOperation(repo.root, {}, platform=side.platform()).run(show=lambda _: None)
        results["plan again"] = normalised(again.model_dump(mode="json"), side.store)
        imported = ImportOperation(repo.root, {}, ["legacy-landing"], platform=side.platform())
        imported.run()
        results["imported"] = repo.read_site("legacy-landing")
        results["after"] = observed(side)
        stats = side.client("studio-token").stats()
        results["requests"] = (stats.by_route, stats.by_status, stats.total)
    return results


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    memory = scenario(tmp_path_factory.mktemp("memory"), in_memory)
    http = scenario(tmp_path_factory.mktemp("http"), over_http)
    return memory, http


STEPS = [
    "before",
    "plan",
    "apply",
    "warnings",
    "applied",
    "status",
    "plan again",
    "imported",
    "after",
    "requests",
]


@pytest.mark.parametrize("step", STEPS)
def test_the_in_memory_platform_answers_as_the_sandbox_over_http(
    both: tuple[dict[str, Any], dict[str, Any]], step: str
) -> None:
    memory, http = both

    assert memory[step] == http[step]


def test_the_scenario_exercises_what_it_compares(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """The comparison is worth something only if the scenario does these things."""
    memory, _ = both
    actions = {(change["action"], change["site"]) for change in memory["plan"]["changes"]}
    notes = " ".join(note["message"] for note in memory["plan"]["notes"])
    applied = {(result["action"], result["outcome"]) for result in memory["apply"]}
    routes = memory["requests"][0]

    assert ("transfer.start", "acme-bakery") in actions
    assert ("transfer.cancel", "harbor-annex") in actions
    assert ("collaborator.remove", "old-shop") in actions
    assert f"no account for {NOBODY}" in notes  # preflight
    assert "declined" in notes  # the memory of bakery-two's handover
    assert ("transfer.start", "done") in applied
    assert memory["plan again"]["changes"] != memory["plan"]["changes"]
    assert "legacy-landing" in memory["imported"]
    assert routes["POST /v1/dry-runs"] >= 1
    assert routes["GET /v1/transfers"] >= 1


def test_the_in_memory_platform_opens_no_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plan and apply on the in-memory platform with every new socket refused."""
    clock = FakeClock()
    repo = repository(tmp_path / "repo")
    with MemorySandbox(clock=clock) as sandbox:
        prepare(sandbox.store, repo, clock)
        platform = ReconcilerPlatform.over(sandbox.client("studio-token"))

        def refused(*args: object, **kwargs: object) -> None:
            raise AssertionError("the in-memory platform opened a socket")

        monkeypatch.setattr(socket.socket, "__init__", refused)
        plan = PlanOperation(repo.root, {}, platform=platform).run(show=lambda _: None)
        applied = ApplyOperation(repo.root, {}, yes=True, parallelism=1, platform=platform).run(
            Hooks()
        )

    assert plan.has_changes
    assert applied.ok


def test_faults_injected_in_memory_are_met_by_the_clients_retries_and_pacing(
    tmp_path: Path, both: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """503s, dropped answers and a rate limit of 20 requests a second, on one virtual
    clock: the plan is the one without faults, and apply makes every change."""
    virtual = VirtualTime()
    faults = FaultSpec(error_rate=0.3, drop_rate=0.2, rate_limit=20, seed=7)
    clock = FakeClock()
    repo = repository(tmp_path / "repo")
    options = {
        "sleep": virtual.sleep,
        "pacer": Pacer(monotonic=virtual.monotonic, sleep=virtual.sleep),
    }
    with MemorySandbox(
        faults=faults, clock=clock, sleep=virtual.sleep, monotonic=virtual.monotonic
    ) as sandbox:
        prepare(sandbox.store, repo, clock)
        platform = sandbox.platform("studio-token", **options)
        plan = PlanOperation(repo.root, {}, platform=platform).run(show=lambda _: None)
        applied = ApplyOperation(repo.root, {}, yes=True, platform=platform).run(Hooks())
        stats = sandbox.client("studio-token", **options).stats()
        shown = normalised(plan.model_dump(mode="json"), sandbox.store)

    assert shown == both[0]["plan"]
    assert applied.ok
    assert stats.by_status.get("503", 0) > 0
    assert stats.by_status.get("dropped", 0) > 0
