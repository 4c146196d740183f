"""``history``'s platform part, on the in-memory platform: the transfers of a site, also
after the expert lost access to it (then from the transfers it sent)."""

from __future__ import annotations

from pathlib import Path

from reconciler.model import TransferStatus
from reconciler.operations.history import HistoryOperation
from reconciler.sandbox.memory import MemorySandbox
from reconciler.sandbox.seed import Seed, apply_seed
from support.repo import EXPERT, Repo, git
from support.sandbox import FakeClock

ANNA = "anna@acme-bakery.example"
BOB = "bob@bobs-shop.example"


def test_history_shows_every_handover_of_a_site_the_expert_no_longer_sees(
    tmp_path: Path,
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.site("acme-bakery", f"id: acme-bakery\nowner: {ANNA}\n")
    git(repo.root, "init", "--quiet")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "--quiet", "-m", "Hand ACME over to Anna")
    clock = FakeClock()
    with MemorySandbox(clock=clock) as sandbox:
        accounts = [{"email": EXPERT, "kind": "expert", "token": "studio-token"}]
        accounts += [{"email": email, "kind": "customer"} for email in (ANNA, BOB)]
        site = {"id": "acme-bakery", "name": "ACME", "owner": EXPERT}
        apply_seed(sandbox.store, Seed.model_validate({"accounts": accounts, "sites": [site]}))
        for to, accept in ((BOB, False), (ANNA, True)):  # Bob declined, then Anna accepted
            with sandbox.store.transaction() as tx:
                tx.start_transfer(EXPERT, "acme-bakery", to, False, None)
            clock.advance(days=1)
            sandbox.store.respond_to_transfer("acme-bakery", accept=accept)
            clock.advance(days=1)
        platform = sandbox.platform("studio-token")

        history = HistoryOperation(repo.root, "acme-bakery", {}, platform=platform).run()

    assert history.platform_problem is None
    assert [(t.to, t.status) for t in history.transfers] == [
        (BOB, TransferStatus.DECLINED),
        (ANNA, TransferStatus.ACCEPTED),
    ]
    assert [entry.subject for entry in history.commits] == ["Hand ACME over to Anna"]
