"""A plan: the ordered changes for a set of sites, with its safety checks.

A plan is an immutable value (plan files are saved and loaded by
``operations/planfile.py``). It records a fingerprint of the observed state it was
computed from, so that a saved plan is refused once the platform has changed, and the
version of each site, so that apply writes with ``If-Match``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from operator import attrgetter

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from reconciler.desired.config import Policy
from reconciler.errors import PlanRefused
from reconciler.heap import bulk
from reconciler.model import DesiredSite, ObservedSite
from reconciler.platform.base import DEFAULT_TRAITS, EVERY_CAPABILITY, Capability, Traits
from reconciler.reconcile.changes import (
    PLATFORM_WIDE,
    Action,
    Change,
    Note,
    NoteCode,
    NoteKind,
    PackagePurchase,
    change_order,
)
from reconciler.reconcile.diff import Facts, diff_site, in_sync, unmanaged_notes

FORMAT_VERSION = 1


class ScopeKind(StrEnum):
    """How a plan's sites were chosen; an apply's git note records it (DESIGN.md section
    8), and only ``all`` and ``since-last-apply`` runs can be the base of the next
    ``--since-last-apply``."""

    ALL = "all"
    SINCE_LAST_APPLY = "since-last-apply"
    SITES = "sites"
    CHANGED_SINCE = "changed-since"


class Plan(BaseModel):
    """What apply will do, in order; serialised as the plan file (DESIGN.md section 7)."""

    model_config = ConfigDict(frozen=True)

    format_version: int = FORMAT_VERSION
    fingerprint: str
    expert: str
    scope: tuple[str, ...] = Field(description="The site ids this plan covers")
    versions: Mapping[str, int] = Field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    notes: tuple[Note, ...] = ()
    scope_note: str | None = Field(
        default=None, description="Why the scope is what it is (plan --changed-since)"
    )
    not_applied: tuple[Change, ...] | None = Field(
        default=None,
        description="Pending changes of sites outside the scope: applying this plan does "
        "NOT make them (plan --changed-since; absent from a plan of every site)",
    )
    scope_kind: ScopeKind | None = Field(
        default=None,
        description="How the scope was chosen: since-last-apply, sites (--site) or "
        "changed-since; absent from a plan of every site",
    )
    also_applied: tuple[Change, ...] | None = Field(
        default=None,
        description="Pending changes of sites outside the scope that the merge's apply "
        "(--since-last-apply) also makes: what earlier merges left behind (plan "
        "--changed-since on a pull request)",
    )

    @field_serializer("versions")
    def _plain_versions(self, value: Mapping[str, int]) -> dict[str, int]:
        return dict(sorted(value.items()))

    @property
    def kind(self) -> ScopeKind:
        """How the scope was chosen (an older plan file of a scope: changed-since)."""
        if self.scope_kind is not None:
            return self.scope_kind
        return ScopeKind.ALL if self.scope_note is None else ScopeKind.CHANGED_SINCE

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def has_drift(self) -> bool:
        """Changes on the platform behind the files' back that the expert cannot simply
        undo (DESIGN.md section 5): ``plan --detailed-exitcode`` exits 2 for them too."""
        return any(note.kind is NoteKind.DRIFT for note in self.notes)

    def counts(self) -> Counter[Action]:
        return Counter(change.action for change in self.changes)

    def changes_by_site(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.site, []).append(change)
        return grouped

    def notes_of(self, kind: NoteKind) -> list[Note]:
        return [note for note in self.notes if note.kind is kind]

    def to_json(self) -> str:
        # A plan of every site reads as it always did: no scope_note, no not_applied.
        optional = ("scope_note", "not_applied", "scope_kind", "also_applied")
        unset = {name for name in optional if getattr(self, name) is None}
        return json.dumps(self.model_dump(mode="json", exclude=unset), indent=2) + "\n"


def fingerprint(observed: Iterable[ObservedSite]) -> str:
    """sha256 of the observed state, independent of listing order."""
    canonical = [site.fingerprint_data() for site in sorted(observed, key=attrgetter("id"))]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build_plan(
    expert: str,
    desired: Mapping[str, DesiredSite],
    observed: Mapping[str, ObservedSite],
    *,
    scope: Iterable[str] | None = None,
    capabilities: frozenset[Capability] = EVERY_CAPABILITY,
    facts: Facts | None = None,
    traits: Traits = DEFAULT_TRAITS,
) -> Plan:
    """The plan for ``scope`` (default: every desired site), deterministically ordered."""
    with bulk():  # a change or note for many sites, and every site's fingerprint
        return _build_plan(expert, desired, observed, scope, capabilities, facts, traits)


def _build_plan(
    expert: str,
    desired: Mapping[str, DesiredSite],
    observed: Mapping[str, ObservedSite],
    scope: Iterable[str] | None,
    capabilities: frozenset[Capability],
    facts: Facts | None,
    traits: Traits,
) -> Plan:
    site_ids = sorted(desired if scope is None else set(scope))
    changes: list[Change] = []
    notes: list[Note] = []
    in_scope: list[ObservedSite] = []
    for site_id in site_ids:
        want, have = desired.get(site_id), observed.get(site_id)
        if have is not None:
            in_scope.append(have)
        if want is None:  # a deleted file: the site becomes unmanaged, nothing is removed
            notes += unmanaged_notes({site_id: have} if have else {}, ())
            continue
        if have is not None and in_sync(want, have):
            continue  # nothing to change or say: the diff would find nothing
        result = diff_site(expert, want, have, facts, traits)
        possible, by_hand = _within(capabilities, result.changes, traits)
        changes += possible
        notes += result.notes + by_hand
    if scope is None:
        notes += unmanaged_notes(observed, desired.keys())
    notes += platform_notes(capabilities, expert, traits)
    return Plan(
        fingerprint=fingerprint(in_scope),
        expert=expert,
        scope=tuple(site_ids),
        versions={site.id: site.version for site in in_scope},
        changes=tuple(sorted(changes, key=change_order)),
        notes=tuple(sorted(notes, key=Note.sort_key)),
    )


def site_changes(
    expert: str,
    want: DesiredSite,
    have: ObservedSite | None,
    capabilities: frozenset[Capability] = EVERY_CAPABILITY,
    facts: Facts | None = None,
    traits: Traits = DEFAULT_TRAITS,
) -> list[Change]:
    """The changes a plan of ``want`` alone would hold, in plan order (the notes left out)."""
    diff = diff_site(expert, want, have, facts, traits)
    possible, _ = _within(capabilities, diff.changes, traits)
    return sorted(possible, key=change_order)


def platform_notes(
    capabilities: frozenset[Capability], expert: str, traits: Traits = DEFAULT_TRAITS
) -> list[Note]:
    """One note for each fallback the plan uses because the platform lacks a family
    (DESIGN.md section 4), and each of the platform's own (``Traits.notes``); none for a
    platform that has every family and says nothing."""
    lacking = {
        Capability.IDENTITY: (
            NoteCode.PLATFORM_NO_IDENTITY,
            "this platform cannot say whose credentials these are: the plan takes them for "
            f"{expert}, the expert reconciler.yaml names, unchecked",
        ),
        Capability.CLOCK: (
            NoteCode.PLATFORM_NO_CLOCK,
            "this platform has no clock of its own: expiry and days left are counted from "
            "the Date of its answers, else from this machine's clock (UTC)",
        ),
        Capability.SENT_TRANSFERS: (
            NoteCode.PLATFORM_NO_TRANSFER_MEMORY,
            "this platform keeps no record of the transfers sent: a declined or expired "
            "handover is not remembered, and a site handed over shows as one the expert "
            "cannot see",
        ),
        Capability.DRY_RUN: (
            NoteCode.PLATFORM_NO_PREFLIGHT,
            "this platform has no dry runs: handovers and purchases are not checked before "
            "review (no preflight); apply meets any refusal",
        ),
    }
    fallbacks = [
        Note(site=PLATFORM_WIDE, kind=NoteKind.INFO, message=message, code=code)
        for capability, (code, message) in lacking.items()
        if capability not in capabilities
    ]
    own = [
        Note(site=PLATFORM_WIDE, kind=NoteKind.INFO, message=message, code=NoteCode.PLATFORM_LIMIT)
        for message in traits.notes
    ]
    return fallbacks + own


def _within(
    capabilities: frozenset[Capability], changes: Iterable[Change], traits: Traits
) -> tuple[list[Change], list[Note]]:
    """The changes the platform can make, and a note for each one it cannot: what to do
    by hand, in the platform's words where it has them."""
    possible: list[Change] = []
    by_hand: list[Note] = []
    for change in changes:
        unmapped = _unmapped_package(change, traits)
        if unmapped is not None:
            by_hand.append(unmapped)
            continue
        if change.capability in capabilities:
            possible.append(change)
            continue
        steps = traits.by_hand.get(change.capability, "must be done by hand on the platform")
        by_hand.append(
            Note(
                site=change.site,
                kind=NoteKind.BLOCKED,
                message=f"this platform's API has no {change.capability.value} writes: "
                f"{change.action.value} ({change.subject or change.site}) {steps}",
            )
        )
    return possible, by_hand


def _unmapped_package(change: Change, traits: Traits) -> Note | None:
    """A package the platform has no plan for (``Traits.packages``): nothing to write."""
    if traits.packages is None or not isinstance(change, PackagePurchase):
        return None
    if change.package in traits.packages:
        return None
    return Note(
        site=change.site,
        kind=NoteKind.BLOCKED,
        message=f"the platform block maps no plan to {change.package.value}: "
        f"{change.action.value} ({change.package.value}) is not made; {traits.packages_hint}",
    )


def with_rest(
    plan: Plan,
    everything: Plan,
    scope_note: str | None = None,
    also: Collection[str] | None = None,
) -> Plan:
    """``plan`` (of a scope) that also lists what ``everything`` (every site's plan) has
    outside that scope: the pending changes of the sites in ``also`` (which the merge's
    apply also makes, DESIGN.md section 5), and the rest, which applying ``plan`` will
    not make."""
    inside, extra = set(plan.scope), set(also or ())
    rest = [change for change in everything.changes if change.site not in inside]
    update: dict[str, object] = {
        "not_applied": tuple(change for change in rest if change.site not in extra),
        "scope_note": scope_note,
    }
    if also is not None:
        update["also_applied"] = tuple(change for change in rest if change.site in extra)
    return plan.model_copy(update=update)


def check_derived(plan: Plan, derived: Plan) -> None:
    """Refuse a saved plan unless the files and the platform still produce exactly its
    changes (DESIGN.md section 5): an edited plan file applies nothing."""
    saved = [_key(change) for change in plan.changes]
    now = [_key(change) for change in derived.changes]
    if saved == now:
        return
    extra = [change for change, key in zip(plan.changes, saved, strict=True) if key not in now]
    missing = [change for change, key in zip(derived.changes, now, strict=True) if key not in saved]
    examples = [f"{c.site}: {c.action.value} is in the plan file" for c in extra[:3]]
    examples += [f"{c.site}: {c.action.value} is due but not in the plan file" for c in missing[:3]]
    detail = "; ".join(examples) or "the same changes in another order"
    raise PlanRefused(
        "the plan file's changes are not what the site files and the platform produce now "
        f"({detail}); nothing was applied. Run `reconciler plan --out FILE` again and "
        "review the new plan"
    )


def _key(change: Change) -> str:
    return json.dumps(change.model_dump(mode="json"), sort_keys=True)


def check_policy(plan: Plan, policy: Policy, *, force: bool = False) -> None:
    """Refuse a plan with more handovers or removals than the policy allows."""
    if force:
        return
    handovers = sum(1 for change in plan.changes if change.is_handover)
    removals = sum(1 for change in plan.changes if change.is_removal)
    over = []
    if handovers > policy.max_handovers:
        noun = "handover" if handovers == 1 else "handovers"
        over.append(f"{handovers} {noun} (policy.max_handovers is {policy.max_handovers})")
    if removals > policy.max_removals:
        noun = "access removal" if removals == 1 else "access removals"
        over.append(f"{removals} {noun} (policy.max_removals is {policy.max_removals})")
    if over:
        raise PlanRefused(
            f"the plan has {' and '.join(over)}; review it, then split the change, raise "
            "the limit in reconciler.yaml, or pass --force"
        )


def check_fresh(plan: Plan, observed: Mapping[str, ObservedSite]) -> None:
    """Refuse a saved plan when the platform changed since it was computed."""
    now = fingerprint(observed[site_id] for site_id in plan.scope if site_id in observed)
    if now != plan.fingerprint:
        raise PlanRefused(
            "the platform changed since this plan was made (its fingerprint no longer "
            "matches); run `reconciler plan --out FILE` again and review the new plan"
        )
