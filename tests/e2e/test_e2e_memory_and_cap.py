"""Issue 18 items 2 and 3 end to end: handover memory per site and recipient, and the
collaborator cap counted at plan time (stay-as-collaborator, additions), against a
sandbox served on 127.0.0.1 as a remote platform."""

from __future__ import annotations

import json
import subprocess

from e2e_support import Repo
from test_e2e_handovers import (
    ANNA,
    MAX,
    TOM,
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

from reconciler.model import Role
from support.repo import EXPERT

__all__ = ["served"]  # the fixture, used by name

BOB = "bob@acme-bakery.example"
EVE = "eve@freelance.example"


def _git_head(repo: Repo) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo.root, check=True, capture_output=True, text=True
    ).stdout.strip()


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


# --- the cap: stay-as-collaborator counts, additions that cannot fit are held back -------


def test_a_handover_that_keeps_the_expert_makes_room_in_the_same_change(served: Repo) -> None:
    seed(served, [ANNA, EVE, TOM], [site("bakery", collaborators={EVE: "editor", TOM: "editor"})])
    served.write(
        "sites/bakery.yaml",
        f"id: bakery\nowner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n  {TOM}: viewer\n",
    )
    commit(served, "Hand the bakery over to Anna; Eve leaves, Tom views")

    _, planned = plan(served)
    out = apply(served)

    assert actions(planned) == [
        ("bakery", "collaborator.remove"),  # first: it makes room for the expert
        ("bakery", "transfer.start"),
        ("bakery", "collaborator.update"),  # a lowering, last as always
    ]
    assert notes(planned, "blocked") == []
    assert "FAILED" not in out
    assert served.platform is not None
    pending = served.platform.store.site("bakery").pending_transfer
    assert pending is not None
    assert pending.stay_as_collaborator
    assert served.platform.store.site("bakery").collaborators == {TOM: Role.VIEWER}
    sandbox(served, "transfer", "accept", "bakery")
    assert served.platform.store.site("bakery").collaborators == {
        TOM: Role.VIEWER,
        EXPERT: Role.EDITOR,
    }
    assert plan(served, "--detailed-exitcode")[0] == 0


def test_a_handover_that_keeps_the_expert_without_room_is_blocked_at_plan_time(
    served: Repo,
) -> None:
    seed(served, [ANNA, EVE, TOM], [site("bakery", collaborators={EVE: "editor", TOM: "editor"})])
    served.write(
        "sites/bakery.yaml",
        f"id: bakery\nowner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n  {EVE}: editor\n"
        f"  {TOM}: editor\n",
    )
    commit(served, "Hand the bakery over to Anna, everyone stays")

    code, planned = plan(served, "--detailed-exitcode")
    applied = served.run("apply", "--yes")

    assert (code, actions(planned)) == (0, [])
    assert notes(planned, "blocked") == [
        f"the handover to {ANNA} keeps {EXPERT} as editor, and with {EVE}, {TOM} that is 3 "
        "collaborators: the free package allows 2, so the platform refuses to start it; "
        f"remove 1 of {EVE}, {TOM} in the site file, or hand over without staying (leave "
        f"{EXPERT} out of its collaborators)"
    ]
    assert applied.exit_code == 0, applied.output


def test_an_addition_that_cannot_fit_is_blocked_at_plan_time_not_a_failing_apply(
    served: Repo,
) -> None:
    seed(served, [EVE, TOM, MAX], [site("shop", collaborators={EVE: "editor", TOM: "editor"})])
    served.write(
        "sites/shop.yaml",
        f"id: shop\nowner: expert\ncollaborators:\n  {EVE}: editor\n  {TOM}: viewer\n"
        f"  {MAX}: viewer\n",
    )
    commit(served, "Max joins the shop")

    _, planned = plan(served)
    applied = served.run("apply", "--yes")

    assert actions(planned) == [("shop", "collaborator.update")]
    assert notes(planned, "blocked") == [
        "the file asks for 3 collaborators (2 now, 1 to add, 0 to remove) but the free "
        f"package allows 2: adding {MAX} is held back; remove 1 more person from the file's "
        "collaborators, or buy premium first"
    ]
    assert applied.exit_code == 0, applied.output
    assert "FAILED" not in applied.output
    assert served.platform is not None
    assert served.platform.store.site("shop").collaborators == {
        EVE: Role.EDITOR,
        TOM: Role.VIEWER,
    }


# --- item 9: "Not applied" as preflight holds back, "Ended (30d)" from the sent listing --


def test_not_applied_leaves_out_a_handover_that_preflight_holds_back(served: Repo) -> None:
    seed(served, [TOM], [site("bakery"), site("shop")])  # Anna has no account
    _owner(served, ANNA, "Hand the bakery over to Anna")
    base = _git_head(served)
    served.write("sites/shop.yaml", f"id: shop\nowner: expert\ncollaborators:\n  {TOM}: viewer\n")
    commit(served, "Tom views the shop")

    _, scoped = plan(served, "--changed-since", base)

    assert actions(scoped) == [("shop", "collaborator.add")]
    assert scoped["not_applied"] == []
    assert notes(scoped, "blocked") == []  # the bakery is outside the scope


def test_status_counts_every_transfer_that_ended_in_30_days(served: Repo) -> None:
    _anna_declined(served)
    _owner(served, BOB, "No: to Bob")
    apply(served)
    _owner(served, ANNA, "Revert: to Anna")
    apply(served)  # cancels Bob's transfer

    result = served.run("status", "--format", "json")

    assert result.exit_code == 0, result.output
    ended = json.loads(result.stdout)["totals"]["handovers_ended_30d"]
    assert ended == {"accepted": 0, "declined": 1, "cancelled": 1, "expired": 0}
