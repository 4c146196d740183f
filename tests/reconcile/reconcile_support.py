"""Small factories for the pure reconcile domain: desired and observed sites, plans.

Imported by the test modules as ``reconcile_support`` (see ``conftest.py`` for why not
``conftest``).

Every factory has defaults for an expert-owned, free site with nobody else on it, so a
test spells out only what matters to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from reconciler.model import (
    DesiredSite,
    EndedTransfer,
    ObservedSite,
    Package,
    PendingTransfer,
    Role,
)
from reconciler.reconcile.changes import Change, Note
from reconciler.reconcile.plan import Plan, build_plan
from support.repo import EXPERT as EXPERT

EXPERT_ACCOUNTS = "accounts@pixel.example"
CLIENT = "anna@acme-bakery.example"
CLIENT_ACCOUNTS = "accounts@acme-bakery.example"
OTHER_CLIENT = "bob@bobs-shop.example"
TOM = "tom@freelance.example"
FREDA = "freda@freelance.example"
MAX = "max@freelance.example"
EVE = "eve@partner.example"
SITE = "acme-bakery"
STARTED = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
PAID_UNTIL = datetime(2025, 4, 30, 23, 59, tzinfo=UTC)

Roles = Mapping[str, str]
SiteT = TypeVar("SiteT", DesiredSite, ObservedSite)
Fleet = tuple[list[DesiredSite], list[ObservedSite]]
Saved = tuple[Plan, Path]


def desired(
    owner: str = EXPERT,
    *,
    site: str = SITE,
    billing_contact: str | None = None,
    collaborators: Roles | None = None,
    package: str | None = None,
    departed: Mapping[str, date] | None = None,
    ask_again_after: str | None = None,
) -> DesiredSite:
    """A site file; ``None`` leaves a key out (not managed). ``departed``: the people
    people.yaml says left, who are then never among the collaborators."""
    gone = dict(departed or {})
    return DesiredSite.model_validate(
        {
            "id": site,
            "owner": owner,
            "billing_contact": billing_contact,
            "collaborators": None
            if collaborators is None
            else {email: role for email, role in collaborators.items() if email not in gone},
            "package": package,
            "departed": gone,
            "ask_again_after": ask_again_after,
        }
    )


def pending(to: str = CLIENT, *, stay: bool = False, transfer_id: str = "tr-1") -> PendingTransfer:
    return PendingTransfer(
        id=transfer_id,
        to=to,
        stay_as_collaborator=stay,
        created_at=STARTED,
        expires_at=STARTED + timedelta(days=14),
    )


def observed(
    owner: str = EXPERT,
    *,
    site: str = SITE,
    billing_contact: str | None = None,
    collaborators: Roles | None = None,
    package: str = "free",
    paid_until: datetime | None = None,
    transfer: PendingTransfer | None = None,
    last: EndedTransfer | None = None,
    version: int = 1,
) -> ObservedSite:
    """A site as the platform lists it; the billing contact defaults to the owner."""
    return ObservedSite(
        id=site,
        name=site.replace("-", " ").title(),
        owner=owner,
        billing_contact=billing_contact or owner,
        package=Package(package),
        package_paid_until=paid_until,
        collaborators={email: Role(role) for email, role in (collaborators or {}).items()},
        pending_transfer=transfer,
        last_transfer=last,
        version=version,
    )


def by_id(sites: Iterable[SiteT]) -> dict[str, SiteT]:
    return {site.id: site for site in sites}


def plan_of(
    pairs: Iterable[tuple[DesiredSite | None, ObservedSite | None]],
    *,
    scope: Iterable[str] | None = None,
) -> Plan:
    """The plan of (desired, observed) pairs; either side may be missing."""
    pairs = list(pairs)
    return build_plan(
        EXPERT,
        by_id(want for want, _ in pairs if want is not None),
        by_id(have for _, have in pairs if have is not None),
        scope=scope,
    )


def subset(change: Change, keys: Iterable[str]) -> dict[str, Any]:
    details = change.model_dump(mode="json")["details"]
    return {key: details.get(key) for key in keys}


def note_pairs(notes: Iterable[Note]) -> list[tuple[str, str]]:
    return [(note.kind.value, note.message) for note in notes]
