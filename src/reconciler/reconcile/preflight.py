"""Preflight (DESIGN.md section 5): which changes of a plan the platform is asked about
before review (a dry run), and the plan once the refused ones are held back. Pure.

Only ``transfer.start`` and ``package.purchase`` are dry-run, and only when no earlier
change of the same site alters what the platform checks: a ``transfer.start`` after a
``transfer.cancel`` would be refused now (a transfer is still pending) and accepted at
apply time, so apply checks it; so is one that keeps the expert after removals that
make room for it. The collaborator cap needs no dry run: the plan does
that arithmetic itself (rule 9).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.platform import base
from reconciler.platform.base import DryRun, DryRunAnswer
from reconciler.platform.errors import StaleVersion
from reconciler.reconcile.changes import (
    Action,
    BillingContactSet,
    Change,
    CollaboratorAdd,
    CollaboratorRemove,
    CollaboratorUpdate,
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
        chosen += site_dry_runs(changes)
    return chosen


def site_dry_runs(changes: Sequence[Change]) -> list[Change]:
    """The changes of one site (in plan order) to dry-run."""
    return [
        change
        for index, change in enumerate(changes)
        if isinstance(change, _CHECKED)
        and not any(_alters(earlier, change) for earlier in changes[:index])
    ]


def _alters(earlier: Change, change: Change) -> bool:
    """Whether ``earlier`` changes what the platform checks of ``change``: a removal that
    makes room for the expert who stays after a handover (the cap, rule 9) does."""
    if isinstance(earlier, CollaboratorRemove) and isinstance(change, TransferStart):
        return change.stay_as_collaborator and earlier.make_room
    return isinstance(earlier, _ALTERS_CHECKS)


def write_of(change: Change) -> base.Write:
    """The platform's write that carries out ``change``."""
    site = change.site
    match change:
        case CollaboratorAdd() | CollaboratorUpdate():
            return base.PutCollaborator(site, change.email, change.role)
        case CollaboratorRemove():
            return base.DeleteCollaborator(site, change.email)
        case BillingContactSet():
            return base.SetBillingContact(site, change.email)
        case TransferStart():
            return base.StartTransfer(site, change.to, change.stay_as_collaborator)
        case TransferCancel():
            return base.CancelTransfer(site, change.transfer_id)
        case PackagePurchase():
            return base.Purchase(site, change.package)


def dry_runs(changes: Iterable[Change], versions: Mapping[str, int]) -> list[DryRun]:
    """The batch that asks about ``changes``, each conditional on the version the plan
    saw of its site."""
    return [DryRun(write_of(change), versions.get(change.site)) for change in changes]


@dataclass(frozen=True)
class Findings:
    """What a batch of dry runs found: the platform's reason for each change it refuses,
    and the changes it could not be asked about (apply checks those), with why."""

    refused: dict[ChangeKey, str] = field(default_factory=dict)
    unasked: list[tuple[Change, str]] = field(default_factory=list)


def findings(changes: Sequence[Change], answers: Sequence[DryRunAnswer]) -> Findings:
    """Read the answers to ``dry_runs(changes)``, in the same order.

    A stale version is no refusal: the site changed since the listing, and apply's
    If-Match says so.
    """
    found = Findings()
    for change, answer in zip(changes, answers, strict=True):
        if answer is None or isinstance(answer, StaleVersion):
            continue
        if answer.is_refusal:
            found.refused[key_of(change)] = answer.detail or answer.message
        else:
            found.unasked.append((change, answer.message))
    return found


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
