"""Preflight (DESIGN.md section 5): which changes of a plan the platform is asked about
before review (a dry run), and the plan once the refused ones are held back. Pure.

Only ``transfer.start`` and ``package.purchase`` are dry-run, and only when no earlier
change of the same site alters what the platform checks: a ``transfer.start`` after a
``transfer.cancel`` would be refused now (a transfer is still pending) and accepted at
apply time, so apply checks it. The collaborator cap needs no dry run: the plan does
that arithmetic itself (rule 9).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.reconcile.changes import (
    Action,
    Change,
    Note,
    NoteCode,
    NoteKind,
    PackagePurchase,
    TransferCancel,
    TransferStart,
)
from reconciler.reconcile.plan import Plan

ChangeKey = tuple[str, Action]
"""A site and an action: a site has at most one transfer.start and one package.purchase."""

_CHECKED = (TransferStart, PackagePurchase)
_ALTERS_CHECKS = (TransferCancel, TransferStart, PackagePurchase)


def key_of(change: Change) -> ChangeKey:
    return (change.site, change.action)


def to_dry_run(plan: Plan) -> list[Change]:
    """The changes to dry-run, in plan order: one request each, at most."""
    chosen: list[Change] = []
    for changes in plan.changes_by_site().values():
        for index, change in enumerate(changes):
            if isinstance(change, _CHECKED) and not any(
                isinstance(earlier, _ALTERS_CHECKS) for earlier in changes[:index]
            ):
                chosen.append(change)
    return chosen


def hold_back(plan: Plan, refused: Mapping[ChangeKey, str]) -> Plan:
    """``plan`` without the changes the platform refused, each with a ``blocked`` note
    that gives the platform's reason. The next plan asks again, so a change comes back
    once its cause is gone (the client signed up)."""
    if not refused:
        return plan
    held = [change for change in plan.changes if key_of(change) in refused]
    notes = [_refusal_note(change, refused[key_of(change)]) for change in held]
    return plan.model_copy(
        update={
            "changes": tuple(c for c in plan.changes if key_of(c) not in refused),
            "notes": tuple(sorted((*plan.notes, *notes), key=Note.sort_key)),
        }
    )


def _refusal_note(change: Change, reason: str) -> Note:
    what = (
        f"the handover to {change.to}"
        if isinstance(change, TransferStart)
        else f"buying {change.package.value}"
        if isinstance(change, PackagePurchase)
        else change.action.value
    )
    return Note(
        site=change.site,
        kind=NoteKind.BLOCKED,
        message=f"the platform refuses {what} ({change.action.value}): {reason.rstrip()} "
        "It is held back from this plan and comes back once the platform would accept it.",
        code=NoteCode.PREFLIGHT_REFUSED,
        data={"action": change.action.value, "reason": reason},
    )
