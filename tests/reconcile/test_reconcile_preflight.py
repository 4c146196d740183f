"""Preflight, the pure part: which changes are dry-run, and the plan once a refusal is
held back (DESIGN.md section 5)."""

from __future__ import annotations

from reconcile_support import (
    CLIENT,
    OTHER_CLIENT,
    TOM,
    desired,
    note_pairs,
    observed,
    pending,
    plan_of,
)

from reconciler.reconcile.changes import Action
from reconciler.reconcile.preflight import hold_back, to_dry_run

REFUSED = (
    "There is no account for anna@acme-bakery.example: the client must sign up first, then "
    "start the transfer again."
)


def test_handovers_and_purchases_are_dry_run_unless_an_earlier_change_alters_the_checks() -> None:
    plan = plan_of(
        [
            (desired(CLIENT, site="a", collaborators={TOM: "viewer"}), observed(site="a")),
            (
                desired(CLIENT, site="b", collaborators={}),
                observed(site="b", transfer=pending(OTHER_CLIENT)),
            ),
            (desired(site="c", package="premium"), observed(site="c")),
            (desired(site="d", collaborators={TOM: "viewer"}), observed(site="d")),
        ]
    )

    assert [(c.site, c.action.value) for c in to_dry_run(plan)] == [
        ("a", "transfer.start"),
        ("c", "package.purchase"),
    ]


def test_a_refused_change_is_held_back_with_the_platforms_reason() -> None:
    plan = plan_of([(desired(CLIENT, site="a", collaborators={TOM: "viewer"}), observed(site="a"))])

    held = hold_back(plan, {("a", Action.TRANSFER_START): REFUSED})

    assert [c.action.value for c in held.changes] == ["collaborator.add"]
    assert note_pairs(held.notes) == [
        (
            "blocked",
            f"the platform refuses the handover to {CLIENT} (transfer.start): {REFUSED} It is "
            "held back from this plan and comes back once the platform would accept it.",
        )
    ]
    assert held.fingerprint == plan.fingerprint
    assert hold_back(plan, {}) is plan
