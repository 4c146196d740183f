"""Desired x observed -> changes and notes. Pure: no I/O, no clock, no randomness.

The rules (DESIGN.md sections 2 and 5):

- a handover is ``transfer.start``; it keeps the expert as a collaborator exactly when
  the expert is among the desired collaborators;
- a transfer pending to the right recipient is waiting, not a change; to the wrong one it
  is cancelled and started again; one the file no longer asks for is cancelled;
- the billing contact moves to the client on acceptance and is never set by hand then; a
  file that leaves it out leaves it as it is;
- the expert buys a package only for a site it owns and keeps (transfer before upgrading);
- where the expert may not write (a client's site, a role too low) a ``blocked`` note says
  what the owner must do; sites without a file are reported as unmanaged, never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reconciler.model import (
    COLLABORATOR_CAP,
    DesiredSite,
    ObservedSite,
    Package,
    PendingTransfer,
    Role,
    TransferEnd,
    TransferRecord,
    TransferStatus,
)
from reconciler.platform.base import DEFAULT_TRAITS, Traits
from reconciler.reconcile.changes import (
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

_STAYING_ROLE = Role.EDITOR  # the platform keeps a former owner who stays as editor


EXPIRING = timedelta(days=3)  # a pending handover this close to its expiry is a warning
_REMEMBERED = {
    TransferEnd.DECLINED: NoteCode.HANDOVER_DECLINED,
    TransferEnd.EXPIRED: NoteCode.HANDOVER_EXPIRED,
}


@dataclass(frozen=True)
class Facts:
    """What the platform says beyond its list of sites: its clock (the ``Date`` of its
    answers), the latest transfer the expert sent of each site it no longer sees, and
    every transfer the expert sent of each site, newest first (the sent-transfer
    listing: the memory of handovers per site and recipient)."""

    now: datetime | None = None
    sent: Mapping[str, TransferRecord] = field(default_factory=dict)
    transfers: Mapping[str, Sequence[TransferRecord]] = field(default_factory=dict)
    every_sent: Sequence[TransferRecord] | None = None  # the whole listing, when read


@dataclass
class SiteDiff:
    """The changes and notes for one site."""

    site: str
    expert: str = ""
    now: datetime | None = None
    sent: Sequence[TransferRecord] = ()
    traits: Traits = DEFAULT_TRAITS
    changes: list[Change] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def change(self, change: Change) -> None:
        self.changes.append(change)

    def note(
        self,
        kind: NoteKind,
        message: str,
        code: NoteCode | None = None,
        **data: str | int | bool | None,
    ) -> None:
        self.notes.append(Note(site=self.site, kind=kind, message=message, code=code, data=data))


def unmanaged_notes(observed: Mapping[str, ObservedSite], managed: Iterable[str]) -> list[Note]:
    return [
        Note(
            site=site_id,
            kind=NoteKind.UNMANAGED,
            message=f"on the platform without a file sites/{site_id}.yaml; left alone "
            f"(`reconciler import {site_id}` adopts it)",
        )
        for site_id in sorted(observed.keys() - set(managed))  # few: sort only those
    ]


def diff_site(
    expert: str,
    want: DesiredSite,
    have: ObservedSite | None,
    facts: Facts | None = None,
    traits: Traits = DEFAULT_TRAITS,
) -> SiteDiff:
    facts = facts or Facts()
    result = SiteDiff(want.id, expert, facts.now, facts.transfers.get(want.id, ()), traits)
    if have is None:
        _not_visible(expert, want, facts.sent.get(want.id), result)
    elif have.owner == expert:
        _diff_expert_owned(expert, want, have, result)
    else:
        _diff_client_owned(expert, want, have, result)
    if have is not None:
        if traits.collaborator_cap:
            _fit_under_cap(have, result)
        if want.departed:
            _offboarding_notes(want, have, result)
        _unmapped_access_notes(have, result)
    return result


def in_sync(want: DesiredSite, have: ObservedSite) -> bool:
    """Whether ``diff_site`` finds nothing to change or say about the site, whoever owns
    it and whatever the platform's traits: the owner the file names owns it, no transfer
    is pending, and every key the file manages has the platform's value, with nobody who
    left or holds unmapped access on it. Most sites of a plan are; checking this first
    spares them the diff (a test holds it to ``diff_site``)."""
    return (
        want.owner == have.owner
        and have.pending_transfer is None
        and not have.unmapped_access
        and (want.collaborators is None or want.collaborators == have.collaborators)
        and (want.billing_contact is None or want.billing_contact == have.billing_contact)
        and (want.package is None or (have.package_known and want.package == have.package))
        and (not want.departed or want.departed.keys().isdisjoint(have.collaborators))
    )


def _unmapped_access_notes(have: ObservedSite, result: SiteDiff) -> None:
    """Access the platform reports that is no role: nothing is planned for it."""
    for email, access in sorted(have.unmapped_access.items()):
        result.note(
            NoteKind.WARNING,
            f"{email} has access that matches no role ({access}); left alone: give them "
            "a role's access on the platform, or map a role to it in reconciler.yaml",
        )


def _offboarding_notes(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    """People who left (people.yaml ``left:``) and keep access that this plan does not
    remove: a warning where the file leaves access unmanaged, else the owner must act."""
    removed = {c.email for c in result.changes if isinstance(c, CollaboratorRemove)}
    for email, role in sorted(have.collaborators.items()):
        left = want.departed.get(email)
        if left is None or email in removed:
            continue
        if want.collaborators is None:
            result.note(
                NoteKind.WARNING,
                f"{email} left on {left.isoformat()} (people.yaml) but still has "
                f"{role.value} access here: sites/{want.id}.yaml leaves `collaborators` "
                f"out, so access is not managed; list the collaborators to remove {email}",
                NoteCode.PERSON_LEFT,
                email=email,
                left=left.isoformat(),
            )
        else:
            result.note(
                NoteKind.BLOCKED,
                f"{email} left on {left.isoformat()} (people.yaml); {have.owner} owns the "
                f"site and must remove them ({role.value})",
                NoteCode.PERSON_LEFT,
                email=email,
                left=left.isoformat(),
            )


def _file_of(want: DesiredSite) -> str:
    return want.source.file if want.source is not None else f"sites/{want.id}.yaml"


def _not_visible(
    expert: str, want: DesiredSite, record: TransferRecord | None, result: SiteDiff
) -> None:
    """A site file whose site the expert cannot see: handed over and left, drift (the
    client took the expert's access away), or a wrong id."""
    accepted = record is not None and record.status is TransferStatus.ACCEPTED
    if record is not None and accepted and not record.stay_as_collaborator:
        ended = _day(record.ended_at or record.created_at)
        result.note(
            NoteKind.INFO,
            f"handed over to {record.to} on {ended}; the expert no longer has access",
            NoteCode.HANDOVER_FINISHED,
            to=record.to,
            ended_at=ended,
            transfer_id=record.id,
        )
        return
    if want.owner != expert and expert in (want.collaborators or {}):
        result.note(
            NoteKind.DRIFT,
            f"{expert} no longer sees this site, though {_file_of(want)} lists it as a "
            f"collaborator of {want.owner}: {want.owner} removed {expert}, or the id is "
            f"wrong; ask {want.owner} to add {expert} again, or correct the id",
            NoteCode.DRIFT_LOST_ACCESS,
            owner=want.owner,
        )
        return
    result.note(
        NoteKind.WARNING,
        f"not found on the platform, or {expert} cannot see it; check the id in {_file_of(want)}",
    )


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def _days_left(pending: PendingTransfer, now: datetime | None) -> int | None:
    """Whole days until expiry, rounded up (a transfer started now has 14), never below 0.

    ``now`` comes from a ``Date`` header, in whole seconds: the expiry is compared at the
    same precision, or a transfer started this second would have 15 days left.
    """
    if now is None:
        return None
    expires = pending.expires_at.replace(microsecond=0)
    return max(0, -((now - expires) // timedelta(days=1)))


def _pending_notes(pending: PendingTransfer, lead: str, who: str, result: SiteDiff) -> None:
    """A pending transfer: when it expires, how many days are left (from the platform's
    clock), and a warning when that is three days or fewer."""
    days = _days_left(pending, result.now)
    left = "" if days is None else f" ({days} day{'' if days == 1 else 's'} left)"
    result.note(
        NoteKind.WAITING,
        f"{lead}; {who} must accept it before {_day(pending.expires_at)}{left}",
        NoteCode.HANDOVER_PENDING,
        to=pending.to,
        created_at=_day(pending.created_at),
        expires_at=_day(pending.expires_at),
        days_left=days,
    )
    if result.now is not None and pending.expires_at - result.now <= EXPIRING:
        result.note(
            NoteKind.WARNING,
            f"the transfer to {pending.to} expires on {_day(pending.expires_at)}{left}: "
            f"remind {pending.to} to accept it; once expired it is not started again until "
            "the site file asks again",
            NoteCode.HANDOVER_EXPIRING,
            to=pending.to,
            expires_at=_day(pending.expires_at),
            days_left=days,
        )


@dataclass(frozen=True)
class _Refusal:
    id: str
    to: str
    status: TransferEnd
    ended_at: datetime


def _last_refusal(
    recipient: str, have: ObservedSite, sent: Sequence[TransferRecord]
) -> _Refusal | None:
    """The newest transfer to ``recipient`` that was declined or expired: from every
    transfer the expert sent of the site (whatever ended since), and the site's own
    last transfer (all a platform without the sent listing remembers)."""
    found = [
        _Refusal(r.id, r.to, TransferEnd(r.status.value), r.ended_at)
        for r in sent
        if r.to == recipient and r.ended_at is not None and r.status.value in _REMEMBERED
    ]
    last = have.last_transfer
    if last is not None and last.to == recipient and last.status in _REMEMBERED:
        found.append(_Refusal(last.id, last.to, last.status, last.ended_at))
    return max(found, key=lambda refusal: refusal.ended_at, default=None)


def _refused_before(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> bool:
    """The recipient the file names declined or let expire their latest handover, and
    the file has not asked again since (``ask_again_after`` names that transfer): it is
    not started again silently, whatever other transfer of the site came and went."""
    last = _last_refusal(want.owner, have, result.sent)
    if last is None or want.ask_again_after == last.id:
        return False
    ended = _day(last.ended_at)
    how = (
        f"{last.to} declined the handover on {ended}"
        if last.status is TransferEnd.DECLINED
        else f"the handover to {last.to} expired on {ended} without an answer"
    )
    result.note(
        NoteKind.BLOCKED,
        f"{how}; it is not started again until the site file asks again: add "
        f"`ask_again_after: {last.id}` to {_file_of(want)} in a reviewed pull request",
        _REMEMBERED[last.status],
        to=last.to,
        ended_at=ended,
        transfer_id=last.id,
    )
    return True


def _date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.date()


# --- sites the expert owns ------------------------------------------------------------


def _diff_expert_owned(
    expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff
) -> None:
    if want.owner == expert:
        _cancel_unwanted_transfer(have, result)
        _diff_collaborators(want, have, result, exclude={expert})
        _diff_billing_contact(want, have, result)
        _diff_package_kept(want, have, result)
    else:
        _diff_collaborators(want, have, result, exclude={expert, want.owner})
        _handover(expert, want, have, result)
        if not result.traits.packages_are_purchases:
            _diff_package_kept(want, have, result)  # a feature plan: nobody pays for it


def _cancel_unwanted_transfer(have: ObservedSite, result: SiteDiff) -> None:
    pending = have.pending_transfer
    if pending is None:
        return
    result.change(
        TransferCancel(
            site=result.site,
            transfer_id=pending.id,
            to=pending.to,
            reason="the site file no longer hands the site over",
        )
    )


def _handover(expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    stay = expert in (want.collaborators or {})
    pending = have.pending_transfer
    if pending is not None and pending.to == want.owner and pending.stay_as_collaborator == stay:
        lead = f"handover to {want.owner} pending since {_day(pending.created_at)}"
        _pending_notes(pending, lead, want.owner, result)
    else:
        if pending is not None:
            reason = (
                f"pending to {pending.to}, not {want.owner}"
                if pending.to != want.owner
                else "its stay-as-collaborator option differs from the site file"
            )
            result.change(
                TransferCancel(
                    site=result.site, transfer_id=pending.id, to=pending.to, reason=reason
                )
            )
        if _refused_before(want, have, result):
            return
        if want.collaborators is None and result.traits.handover_keeps_collaborators:
            result.note(
                NoteKind.WARNING,
                f"the file leaves collaborators out, so {expert} is not among them and "
                f"loses all access on acceptance; list `{expert}: editor` to stay on",
            )
        result.change(
            TransferStart(
                site=result.site,
                to=want.owner,
                stay_as_collaborator=stay,
                billing_contact_before=have.billing_contact,
                package=have.package,
                package_paid_until=_date(have.package_paid_until),
            )
        )
    _explain_after_handover(expert, want, have, result)


def _explain_after_handover(
    expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff
) -> None:
    """What acceptance will do, and what is then left to the client."""
    billing = want.effective_billing_contact
    if billing != want.owner:
        result.note(
            NoteKind.WARNING,
            f"acceptance makes {want.owner} the billing contact; {want.owner} must then "
            f"set it to {billing}",
        )
    package = _package_to_buy(want, have, result)
    if package is not None and result.traits.packages_are_purchases:
        result.note(
            NoteKind.WAITING,
            f"{package.value} is bought by {want.owner} after accepting the handover, "
            "so that the client pays and is invoiced in their own name (transfer before "
            "upgrading)",
        )
    staying_role = (want.collaborators or {}).get(expert)
    if not result.traits.handover_keeps_collaborators:
        return
    if staying_role is not None and staying_role != _STAYING_ROLE:
        result.note(
            NoteKind.WARNING,
            f"the platform keeps {expert} as {_STAYING_ROLE.value} after the handover; "
            f"{want.owner} must then make it {staying_role.value}",
        )


def _diff_collaborators(
    want: DesiredSite, have: ObservedSite, result: SiteDiff, *, exclude: set[str]
) -> None:
    if want.collaborators is None:
        return
    for email, role in sorted(want.collaborators.items()):
        current = have.collaborators.get(email)
        if email in exclude or current == role or email in have.unmapped_access:
            continue
        if current is None:
            result.change(CollaboratorAdd(site=result.site, email=email, role=role))
        else:
            result.change(
                CollaboratorUpdate(
                    site=result.site,
                    email=email,
                    role=role,
                    previous_role=current,
                    raises=role.rank > current.rank,
                )
            )
    for email, current in sorted(have.collaborators.items()):
        if email not in want.collaborators and email not in exclude:
            result.change(CollaboratorRemove(site=result.site, email=email, previous_role=current))


def _fit_under_cap(have: ObservedSite, result: SiteDiff) -> None:
    """Hold the site's changes to the collaborator cap (rule 9), so that one reviewed
    change is enough and no change fails every apply (DESIGN.md section 5):

    - additions that cannot fit even after the file's removals and a purchase that
      raises the cap are held back as a ``blocked`` note that says what to change;
    - the rest are ordered to fit: a purchase that raises the cap first, else the
      removals that make room, else both;
    - a handover that keeps the expert counts the expert, who stays as a collaborator on
      acceptance: the removals come before the ``transfer.start`` that needs their room,
      and a handover the file makes no room for is a ``blocked`` note.
    """
    if not result.changes:
        return  # nothing to order or hold back (a site someone else owns, mostly)
    cap = COLLABORATOR_CAP[have.package]
    purchase = next((c for c in result.changes if isinstance(c, PackagePurchase)), None)
    raised = cap if purchase is None else max(cap, COLLABORATOR_CAP[purchase.package])
    removed = {c.email for c in result.changes if isinstance(c, CollaboratorRemove)}
    added = {c.email for c in result.changes if isinstance(c, CollaboratorAdd)}
    total = len(have.collaborators) + len(added)
    if added and total - len(removed) > raised:
        _hold_back_additions(have, result, added, removed, raised)
        added, total = set(), len(have.collaborators)
    buy_first = bool(added) and raised > cap and total - len(removed) > cap
    make_room = bool(removed) and bool(added) and total > (raised if buy_first else cap)
    make_room = _fit_staying_expert(have, result, added, removed) or make_room
    if buy_first or make_room:  # else every change stays as it is
        result.changes = [
            _moved(c, buy_first=buy_first, make_room=make_room) for c in result.changes
        ]


def _hold_back_additions(
    have: ObservedSite, result: SiteDiff, added: set[str], removed: set[str], raised: int
) -> None:
    """The file asks for more collaborators than the package allows: no addition is made
    (whichever would go first, the platform refuses the last), and the note says what to
    change."""
    result.changes = [c for c in result.changes if not isinstance(c, CollaboratorAdd)]
    final = len(have.collaborators) + len(added) - len(removed)
    over = final - raised
    buy = "buy premium" if have.owner == result.expert else f"ask {have.owner} to buy premium"
    if raised >= COLLABORATOR_CAP[Package.PREMIUM]:
        buy = "no package allows more"
    else:
        buy = f"or {buy} first"
    names = ", ".join(sorted(added))
    result.note(
        NoteKind.BLOCKED,
        f"the file asks for {final} collaborators ({len(have.collaborators)} now, "
        f"{len(added)} to add, {len(removed)} to remove) but the {have.package.value} "
        f"package allows {raised}: adding {names} is held back; remove {over} more "
        f"{'person' if over == 1 else 'people'} from the file's collaborators, {buy}",
    )


def _fit_staying_expert(
    have: ObservedSite, result: SiteDiff, added: set[str], removed: set[str]
) -> bool:
    """Whether the removals must come first to make room for the expert who stays after
    the handover; a handover the file makes no room for is held back instead."""
    start = next((c for c in result.changes if isinstance(c, TransferStart)), None)
    if start is None or not start.stay_as_collaborator:
        return False
    cap = COLLABORATOR_CAP[have.package]  # the platform checks the package of today
    others = (set(have.collaborators) | added) - {start.to}
    if len(others - removed) + 1 <= cap:
        return len(others) + 1 > cap
    result.changes = [c for c in result.changes if c is not start]
    staying = sorted(others - removed)
    over = len(staying) + 1 - cap
    result.note(
        NoteKind.BLOCKED,
        f"the handover to {start.to} keeps {result.expert} as editor, and with "
        f"{', '.join(staying)} that is {len(staying) + 1} collaborators: the "
        f"{have.package.value} package allows {cap}, so the platform refuses to start it; "
        f"remove {over} of {', '.join(staying)} in the site file, or hand over without "
        f"staying (leave {result.expert} out of its collaborators)",
    )
    return False


def _moved(change: Change, *, buy_first: bool, make_room: bool) -> Change:
    if buy_first and isinstance(change, PackagePurchase):
        return change.model_copy(update={"raises_cap": True})
    if make_room and isinstance(change, CollaboratorRemove):
        return change.model_copy(update={"make_room": True})
    return change


def _diff_billing_contact(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    billing = want.billing_contact  # left out: left as it is (DESIGN.md section 3)
    if billing is not None and billing != have.billing_contact:
        result.change(
            BillingContactSet(site=result.site, email=billing, previous=have.billing_contact)
        )


def _diff_package_kept(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    if (package := _package_to_buy(want, have, result)) is not None:
        plan = not result.traits.packages_are_purchases
        result.change(
            PackagePurchase(
                site=result.site, package=package, previous=have.package, feature_plan=plan
            )
        )


def _package_to_buy(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> Package | None:
    """The package someone must buy for the site, if any. Nothing downgrades: a file
    asking for free on a paid site gets a warning instead. On a platform whose packages
    are feature plans, the file's plan is set whichever way it goes."""
    if want.package is None or (have.package_known and want.package == have.package):
        return None
    if not result.traits.packages_are_purchases:
        return want.package
    if want.package is Package.FREE:
        result.note(
            NoteKind.WARNING,
            f"the site has {have.package.value}; a paid package is not cancelled by "
            "reconciler and stays until its period ends",
        )
        return None
    return want.package


# --- sites someone else owns ----------------------------------------------------------


def _diff_client_owned(
    expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff
) -> None:
    _foreign_transfer(want, have, result)
    if want.owner != have.owner:
        _blocked_ownership(expert, want, have, result)
        return
    owner = have.owner
    if have.collaborators.get(expert) is Role.ADMIN:
        _diff_collaborators(want, have, result, exclude={expert, owner})
        _blocked_own_access(expert, want, have, result)
    else:
        _blocked_collaborators(want, have, result)
    if want.billing_contact is not None and want.billing_contact != have.billing_contact:
        result.note(
            NoteKind.BLOCKED,
            f"{owner} owns the site and must set the billing contact to "
            f"{want.billing_contact} (now {have.billing_contact})",
        )
    if (package := _package_to_buy(want, have, result)) is not None:
        result.note(
            NoteKind.BLOCKED,
            f"{owner} owns the site and must buy {package.value} "
            f"(now {have.package.value}); only the owner can buy a package",
        )


def _blocked_ownership(
    expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff
) -> None:
    pending = have.pending_transfer
    if pending is not None and pending.to == want.owner:
        who = "you" if want.owner == expert else want.owner
        lead = f"{have.owner} started the transfer to {want.owner} on {_day(pending.created_at)}"
        _pending_notes(pending, lead, who, result)
        return
    asked = "hand it back to you" if want.owner == expert else f"hand it over to {want.owner}"
    result.note(
        NoteKind.BLOCKED,
        f"{have.owner} owns the site; only the owner can start a transfer: ask "
        f"{have.owner} to {asked}",
    )


def _foreign_transfer(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    """Drift: the client started a transfer that the site file does not ask for."""
    pending = have.pending_transfer
    if pending is None or pending.to == want.owner:
        return
    result.note(
        NoteKind.DRIFT,
        f"{have.owner} started a transfer to {pending.to} on {_day(pending.created_at)} "
        f"that {_file_of(want)} does not ask for (it names {want.owner} as the owner); ask "
        f"{have.owner} to cancel it, or write `owner: {pending.to}` if it is wanted",
        NoteCode.DRIFT_FOREIGN_TRANSFER,
        to=pending.to,
        started_by=have.owner,
        created_at=_day(pending.created_at),
        expires_at=_day(pending.expires_at),
    )


def _blocked_collaborators(want: DesiredSite, have: ObservedSite, result: SiteDiff) -> None:
    steps = _access_steps(want, have, exclude={have.owner})
    if steps:
        result.note(
            NoteKind.BLOCKED,
            f"{have.owner} owns the site and must change access (you are not an admin "
            f"collaborator): {'; '.join(steps)}",
        )


def _blocked_own_access(
    expert: str, want: DesiredSite, have: ObservedSite, result: SiteDiff
) -> None:
    if want.collaborators is None:
        return
    wanted, current = want.collaborators.get(expert), have.collaborators.get(expert)
    if wanted != current:
        step = f"make {expert} {wanted.value}" if wanted else f"remove {expert}"
        result.note(NoteKind.BLOCKED, f"{have.owner} owns the site and must {step}")


def _access_steps(want: DesiredSite, have: ObservedSite, *, exclude: set[str]) -> list[str]:
    if want.collaborators is None:
        return []
    steps = [
        f"make {email} {role.value}"
        for email, role in sorted(want.collaborators.items())
        if email not in exclude and have.collaborators.get(email) != role
    ]
    steps += [
        f"remove {email}"
        for email in sorted(have.collaborators)
        if email not in want.collaborators and email not in exclude | want.departed.keys()
    ]
    return steps
