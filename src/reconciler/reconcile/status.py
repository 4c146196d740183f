"""The portfolio at a glance: desired x observed x the plan's notes -> a status report.

Pure, like ``diff`` and ``plan``: the caller lists the platform, makes the plan and reads
the platform's clock; this module only combines what they found (DESIGN.md section 7,
``reconciler status``). The report's fields are a public contract: scripts read its JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.model import (
    BillingPeriod,
    DesiredSite,
    EndedTransfer,
    ObservedSite,
    Package,
    PackagePrice,
    TransferRecord,
)
from reconciler.reconcile.changes import Change, Note
from reconciler.reconcile.diff import EXPIRING
from reconciler.reconcile.plan import Plan

FORMAT_VERSION = 1
ENDED_WITHIN = timedelta(days=30)
ENDED_STATUSES = ("accepted", "declined", "cancelled", "expired")
# Notes that say something is worth knowing but leave the file and the platform agreeing.
_AGREEING_NOTES = frozenset({"info"})

PaidBy = Literal["expert", "client"]
State = Literal[
    "drift", "blocked", "missing", "changes", "waiting", "warning", "in_sync", "unmanaged"
]
"""One word for a site, the most pressing first; as the status page shows it."""
PAID_PACKAGES = tuple(package for package in Package if package is not Package.FREE)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PendingHandover(_Frozen):
    """A transfer waiting for its recipient; ``days_left`` counts from the platform's clock."""

    to: str
    created_at: datetime
    expires_at: datetime
    days_left: int


class EndedHandover(_Frozen):
    """How the site's most recent finished transfer ended."""

    to: str
    status: str = Field(description="accepted, declined, cancelled or expired")
    ended_at: datetime


class StatusNote(_Frozen):
    kind: str
    message: str


class SiteStatus(_Frozen):
    """One row of the portfolio: a site from its file, the platform, or both.

    ``None`` where the value cannot be known: the platform's side of a site the expert
    cannot see, the file's side of an unmanaged site.
    """

    id: str
    name: str | None
    owner: str | None
    desired_owner: str | None
    billing_contact: str | None
    paid_by: PaidBy | None
    package: Package | None
    package_paid_until: datetime | None
    package_price: PackagePrice | None = Field(
        description="what the package costs its owner each period; null for free"
    )
    package_renews_at: datetime | None = Field(
        description="when the paid package next renews, on its owner's card"
    )
    collaborators: Mapping[str, str]
    pending_transfer: PendingHandover | None
    last_transfer: EndedHandover | None
    managed: bool
    in_sync: bool
    state: State = Field(
        description="drift, blocked, missing (a file for a site the expert cannot see), "
        "changes (the plan would write), waiting, warning, in_sync or unmanaged"
    )
    notes: tuple[StatusNote, ...]
    planned: tuple[Change, ...] = Field(default=(), exclude=True)
    """The plan's changes for the site: shown in text and HTML, not part of the JSON."""

    def has_note(self, kind: str) -> bool:
        return any(note.kind == kind for note in self.notes)

    @property
    def waiting_on(self) -> str | None:
        """Whom the site waits for: the recipient of its pending transfer, else the owner
        the file wants (who must accept, then act)."""
        if not self.has_note("waiting"):
            return None
        if self.pending_transfer is not None:
            return self.pending_transfer.to
        return self.desired_owner


class YearlyCost(_Frozen):
    """What the expert's own sites of one package cost a year in one currency."""

    package: str
    currency: str
    amount_cents: int = Field(description="a year: twelve times a monthly price")
    sites: int


class Renewal(_Frozen):
    """The paid package that renews next on the expert's card."""

    site: str
    name: str | None
    package: str
    renews_at: datetime
    amount_cents: int = Field(description="what that renewal charges")
    currency: str
    period: BillingPeriod


class Totals(_Frozen):
    sites: int
    managed: int
    unmanaged: int
    owned_by_expert: int
    owned_by_clients: int
    expert_pays: Mapping[str, int] = Field(
        description="sites the expert owns on a paid package, by package"
    )
    expert_pays_per_year: tuple[YearlyCost, ...] = Field(
        description="what the expert's paid packages cost a year, by currency and package"
    )
    expert_renews_next: Renewal | None = Field(
        description="the expert's paid package that renews next (not before now)"
    )
    handovers_pending: int
    handovers_expiring: int = Field(description="pending, expiring within three days")
    handovers_ended_30d: Mapping[str, int] = Field(description="last transfers, by status")
    waiting: int
    blocked: int
    drift: int


class StatusReport(_Frozen):
    """``reconciler status``: one row per site, managed and unmanaged, and the totals."""

    format_version: int = FORMAT_VERSION
    sites: tuple[SiteStatus, ...]
    totals: Totals
    expert: str = Field(exclude=True)
    as_of: datetime = Field(exclude=True, description="the platform's clock")

    def waiting_on(self) -> Counter[str]:
        """Sites waiting, by whom they wait for."""
        return Counter(who for site in self.sites if (who := site.waiting_on) is not None)


def days_left(expires_at: datetime, now: datetime) -> int:
    """Whole days until expiry, rounded up (a transfer started now has 14), never below 0;
    as the plan's notes count them. ``now`` comes from a ``Date`` header, in whole
    seconds: the expiry is compared at the same precision."""
    expires = expires_at.replace(microsecond=0)
    return max(0, -((now - expires) // timedelta(days=1)))


def build_status(
    expert: str,
    desired: Mapping[str, DesiredSite],
    observed: Mapping[str, ObservedSite],
    plan: Plan,
    *,
    now: datetime,
    sent: Iterable[TransferRecord] = (),
    every_sent: Sequence[TransferRecord] | None = None,
    only: Collection[str] | None = None,
) -> StatusReport:
    """The report for every site with a file or on the platform, sorted by id.

    ``now`` is the platform's clock. ``sent`` are the transfers the expert sent: for a
    site it no longer sees, the latest that ended says how its handover ended.
    ``every_sent`` is the whole sent-transfer listing, when the platform has one: the
    transfers that ended in the last 30 days are counted from it (every one, not only
    each site's latest); without it, from each site's last transfer. ``only``: these
    sites alone (``status SITE...``), the totals counting them alone.
    """
    changes = plan.changes_by_site()
    notes = _notes_by_site(plan.notes)
    ended = _ended_elsewhere(sent, observed)
    rows = tuple(
        _site_status(
            expert,
            desired.get(site_id),
            observed.get(site_id),
            site_id,
            now=now,
            ended=ended.get(site_id),
            changes=changes.get(site_id, ()),
            notes=notes.get(site_id, ()),
        )
        for site_id in sorted(desired.keys() | observed.keys())
        if only is None or site_id in only
    )
    if only is not None and every_sent is not None:
        every_sent = [record for record in every_sent if record.site_id in only]
    totals = _totals(expert, rows, now, every_sent)
    return StatusReport(sites=rows, totals=totals, expert=expert, as_of=now)


def _ended_elsewhere(
    sent: Iterable[TransferRecord], observed: Mapping[str, ObservedSite]
) -> dict[str, EndedHandover]:
    """The latest ended transfer of each site the expert does not see any more."""
    latest: dict[str, TransferRecord] = {}
    for record in sent:
        if record.site_id in observed or record.ended_at is None:
            continue
        known = latest.get(record.site_id)
        if known is None or (known.ended_at or record.ended_at) < record.ended_at:
            latest[record.site_id] = record
    return {
        site_id: EndedHandover.model_construct(to=r.to, status=r.status.value, ended_at=r.ended_at)
        for site_id, r in latest.items()
        if r.ended_at is not None
    }


def _notes_by_site(notes: Iterable[Note]) -> dict[str, list[Note]]:
    grouped: dict[str, list[Note]] = {}
    for note in notes:
        grouped.setdefault(note.site, []).append(note)
    return grouped


def _site_status(
    expert: str,
    want: DesiredSite | None,
    have: ObservedSite | None,
    site_id: str,
    *,
    now: datetime,
    ended: EndedHandover | None,
    changes: Iterable[Change],
    notes: Iterable[Note],
) -> SiteStatus:
    planned = tuple(changes)
    site_notes = tuple(
        StatusNote.model_construct(kind=note.kind.value, message=note.message) for note in notes
    )
    owner = _owner(have, ended)
    agree = all(note.kind in _AGREEING_NOTES for note in site_notes)
    kinds = {note.kind for note in site_notes}
    # Built without validating again: every value comes typed from the model and the plan,
    # and a portfolio has thousands of rows.
    return SiteStatus.model_construct(
        id=site_id,
        name=have.name if have is not None else (want.name if want is not None else None),
        owner=owner,
        desired_owner=None if want is None else want.owner,
        billing_contact=None if have is None else have.billing_contact,
        paid_by=None if owner is None else ("expert" if owner == expert else "client"),
        package=None if have is None or not have.package_known else have.package,
        package_paid_until=None if have is None else have.package_paid_until,
        package_price=None if have is None else have.package_price,
        package_renews_at=None if have is None else have.package_renews_at,
        collaborators={} if have is None else {e: r.value for e, r in have.collaborators.items()},
        pending_transfer=_pending(have, now),
        last_transfer=_last(have) if have is not None else ended,
        managed=want is not None,
        in_sync=want is not None and not planned and agree,
        state=_state(want is not None, kinds, owner, bool(planned)),
        notes=site_notes,
        planned=planned,
    )


def _state(managed: bool, kinds: set[str], owner: str | None, planned: bool) -> State:
    """The most pressing first: drift, blocked, missing (a file for a site the expert
    cannot see), changes (the plan would write), waiting, warning; else in sync."""
    if not managed:
        return "unmanaged"
    if "drift" in kinds:
        return "drift"
    if "blocked" in kinds:
        return "blocked"
    if owner is None:
        return "missing"
    if planned:
        return "changes"
    if "waiting" in kinds:
        return "waiting"
    if "warning" in kinds:
        return "warning"
    return "in_sync"


def _last(have: ObservedSite) -> EndedHandover | None:
    last: EndedTransfer | None = have.last_transfer
    if last is None:
        return None
    return EndedHandover.model_construct(
        to=last.to, status=last.status.value, ended_at=last.ended_at
    )


def _owner(have: ObservedSite | None, ended: EndedHandover | None) -> str | None:
    """The platform's owner; for a site the expert no longer sees, the recipient of the
    handover that removed it (the sent-transfer record says so)."""
    if have is not None:
        return have.owner
    if ended is not None and ended.status == "accepted":
        return ended.to
    return None


def _pending(have: ObservedSite | None, now: datetime) -> PendingHandover | None:
    if have is None or (pending := have.pending_transfer) is None:
        return None
    return PendingHandover.model_construct(
        to=pending.to,
        created_at=pending.created_at,
        expires_at=pending.expires_at,
        days_left=days_left(pending.expires_at, now),
    )


def _totals(
    expert: str,
    rows: tuple[SiteStatus, ...],
    now: datetime,
    every_sent: Sequence[TransferRecord] | None,
) -> Totals:
    managed = sum(1 for row in rows if row.managed)
    pending = [row.pending_transfer for row in rows if row.pending_transfer is not None]
    recent = _ended_recently(rows, now, every_sent)
    paid = [row for row in rows if row.owner == expert and row.package in PAID_PACKAGES]
    pays = Counter(row.package.value for row in paid if row.package is not None)
    ended = Counter(recent)
    return Totals(
        sites=len(rows),
        managed=managed,
        unmanaged=len(rows) - managed,
        owned_by_expert=sum(1 for row in rows if row.owner == expert),
        owned_by_clients=sum(1 for row in rows if row.owner is not None and row.owner != expert),
        expert_pays={package.value: pays[package.value] for package in PAID_PACKAGES},
        expert_pays_per_year=_per_year(paid),
        expert_renews_next=_renews_next(paid, now),
        handovers_pending=len(pending),
        handovers_expiring=sum(1 for p in pending if p.expires_at - now <= EXPIRING),
        handovers_ended_30d={status: ended[status] for status in ENDED_STATUSES},
        waiting=sum(1 for row in rows if row.has_note("waiting")),
        blocked=sum(1 for row in rows if row.has_note("blocked")),
        drift=sum(1 for row in rows if row.has_note("drift")),
    )


def _per_year(paid: Iterable[SiteStatus]) -> tuple[YearlyCost, ...]:
    """The yearly cost of the expert's paid packages, by currency, then package."""
    cents: Counter[tuple[str, str]] = Counter()
    sites: Counter[tuple[str, str]] = Counter()
    for row in paid:
        if row.package_price is None or row.package is None:
            continue  # a platform that does not say what it costs
        key = (row.package_price.currency, row.package.value)
        cents[key] += row.package_price.per_year_cents
        sites[key] += 1
    return tuple(
        YearlyCost(package=package, currency=currency, amount_cents=cents[key], sites=sites[key])
        for key in sorted(cents)
        for currency, package in [key]
    )


def _renews_next(paid: Iterable[SiteStatus], now: datetime) -> Renewal | None:
    """The paid package that renews soonest from now on (the earliest, then by id)."""
    due = [
        Renewal(
            site=row.id,
            name=row.name,
            package=row.package.value,
            renews_at=row.package_renews_at,
            amount_cents=row.package_price.amount_cents,
            currency=row.package_price.currency,
            period=row.package_price.period,
        )
        for row in paid
        if row.package is not None
        and row.package_price is not None
        and row.package_renews_at is not None
        and row.package_renews_at >= now
    ]
    return min(due, key=lambda renewal: (renewal.renews_at, renewal.site), default=None)


def _ended_recently(
    rows: tuple[SiteStatus, ...], now: datetime, every_sent: Sequence[TransferRecord] | None
) -> list[str]:
    """How each transfer that ended in the last 30 days ended: every one the expert sent
    (a site handed to bob and back to anna counts both), else each site's latest."""
    if every_sent is not None:
        return [
            record.status.value
            for record in every_sent
            if record.ended_at is not None and now - record.ended_at <= ENDED_WITHIN
        ]
    return [
        row.last_transfer.status
        for row in rows
        if row.last_transfer is not None and now - row.last_transfer.ended_at <= ENDED_WITHIN
    ]
