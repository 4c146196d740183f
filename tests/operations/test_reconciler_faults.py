"""The Reconciler (operations/reconcile.py) when the platform fails it, on the in-memory
platform: the sandbox's rules and injected faults, the real client, no socket, and the
client's retries on a virtual clock."""

from __future__ import annotations

from pathlib import Path

from reconciler.desired.loader import load_repository
from reconciler.operations.reconcile import Reconciler
from reconciler.operations.workspace import observe
from reconciler.platform.pacing import Pacer
from reconciler.platform.transport import RetryPolicy
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.memory import MemorySandbox
from reconciler.sandbox.seed import Seed, apply_seed
from support.clock import VirtualTime
from support.repo import EXPERT, Repo

MIA = "mia@glow-salon.example"


def test_a_platform_that_fails_the_dry_run_keeps_the_change_for_apply_to_check(
    tmp_path: Path,
) -> None:
    """Preflight is advice: when the platform cannot answer it, the change stays."""
    repo = Repo(tmp_path / "repo")
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.write("sites/glow-salon.yaml", f"id: glow-salon\nowner: {MIA}\ncollaborators: {{}}\n")
    db = tmp_path / "platform.db"  # one platform, first healthy, then failing every answer
    seed = {
        "accounts": [{"email": EXPERT, "kind": "expert", "token": "studio-token"}],
        "sites": [
            {"id": "glow-salon", "name": "glow-salon", "owner": EXPERT, "billing_contact": EXPERT}
        ],
    }  # Mia has no account: a dry run would refuse
    state = load_repository(repo.root)
    with MemorySandbox(db) as healthy:
        apply_seed(healthy.store, Seed.model_validate(seed))
        seen = observe(healthy.platform("studio-token"))
    virtual = VirtualTime()
    failing = FaultSpec.parse("error_rate=1")
    retry = RetryPolicy(max_attempts=2)
    pacer = Pacer(monotonic=virtual.monotonic, sleep=virtual.sleep)
    with MemorySandbox(db, faults=failing) as down:
        platform = down.platform("studio-token", retry=retry, sleep=virtual.sleep, pacer=pacer)
        reconciler = Reconciler(state, platform, observed=seen)
        plan = reconciler.plan()

    assert [(c.site, c.action.value) for c in plan.changes] == [("glow-salon", "transfer.start")]
    assert not [n for n in plan.notes if n.kind.value == "blocked"]
