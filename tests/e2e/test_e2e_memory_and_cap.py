"""Issue 18 items 2 and 3 end to end: handover memory per site and recipient, and the
collaborator cap counted at plan time (stay-as-collaborator, additions), against a
sandbox served on 127.0.0.1 as a remote platform."""

from __future__ import annotations

from e2e_support import Repo
from test_e2e_handovers import (
    ANNA,
    actions,
    apply,
    commit,
    notes,
    plan,
    sandbox,
    seed,
    served,
    site,
)

from support.repo import EXPERT

__all__ = ["served"]  # the fixture, used by name

BOB = "bob@acme-bakery.example"
EVE = "eve@freelance.example"


def _owner(repo: Repo, owner: str, message: str) -> None:
    repo.write("sites/bakery.yaml", f"id: bakery\nowner: {owner}\ncollaborators: {{}}\n")
    commit(repo, message)


def _anna_declined(repo: Repo) -> None:
    seed(repo, [ANNA, BOB], [site("bakery")])
    _owner(repo, ANNA, "Hand the bakery over to Anna")
    apply(repo)
    sandbox(repo, "transfer", "decline", "bakery")


def _still_remembered(repo: Repo) -> None:
    code, again = plan(repo, "--detailed-exitcode")
    assert (code, actions(again)) == (0, [])
    [blocked] = notes(again, "blocked")
    assert blocked.startswith(f"{ANNA} declined the handover on ")
    assert "it is not started again until the site file asks again" in blocked
    assert repo.platform is not None
    to_anna = [t for t in repo.platform.store.transfers_of("bakery") if t.to == ANNA]
    assert len(to_anna) == 1  # never sent again


# --- handovers have a memory per site and recipient ---------------------------------------


def test_a_refusal_is_remembered_after_a_handover_to_someone_else_was_cancelled(
    served: Repo,
) -> None:
    _anna_declined(served)
    _owner(served, BOB, "No: to Bob")
    apply(served)
    _owner(served, ANNA, "Revert: to Anna")

    _, reverted = plan(served)
    apply(served)  # cancels Bob's transfer, does not ask Anna

    assert actions(reverted) == [("bakery", "transfer.cancel")]
    assert notes(reverted, "blocked")[0].startswith(f"{ANNA} declined the handover on ")
    _still_remembered(served)


def test_a_refusal_is_remembered_after_a_transfer_started_and_cancelled_on_the_platform(
    served: Repo,
) -> None:
    _anna_declined(served)
    assert served.platform is not None
    with served.platform.store.transaction() as tx:
        tx.start_transfer(EXPERT, "bakery", BOB, False, None)
    served.platform.store.cancel_pending_transfer("bakery")

    _still_remembered(served)


def test_ask_again_after_names_the_refusal_of_that_recipient(served: Repo) -> None:
    _anna_declined(served)
    _owner(served, BOB, "No: to Bob")
    apply(served)
    assert served.platform is not None
    [declined] = [t for t in served.platform.store.transfers_of("bakery") if t.to == ANNA]
    served.write(
        "sites/bakery.yaml",
        f"id: bakery\nowner: {ANNA}\ncollaborators: {{}}\nask_again_after: {declined.id}\n",
    )
    commit(served, "Ask Anna again")

    _, asked = plan(served)

    assert actions(asked) == [("bakery", "transfer.cancel"), ("bakery", "transfer.start")]
    assert notes(asked, "blocked") == []
