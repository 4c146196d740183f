"""Typed changes: one class per action, serialised as format_version 1 plan JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from reconcile_support import CLIENT, EXPERT, SITE, by_id, desired, observed

from reconciler.model import Package, Role
from reconciler.operations.planfile import load_plan
from reconciler.platform.base import EVERY_CAPABILITY, Capability
from reconciler.reconcile.changes import (
    Action,
    CollaboratorAdd,
    NoteKind,
    TransferStart,
    change_from_json,
)
from reconciler.reconcile.plan import build_plan

V1_PLAN = Path(__file__).parent / "fixtures" / "plan-v1-every-action.json"


def test_a_plan_file_written_before_typed_changes_loads_and_saves_byte_for_byte() -> None:
    plan = load_plan(V1_PLAN)

    assert {change.action for change in plan.changes} == set(Action)
    assert plan.to_json() == V1_PLAN.read_text(encoding="utf-8")


def test_each_change_reads_its_fields_typed() -> None:
    plan = load_plan(V1_PLAN)
    start = next(c for c in plan.changes if isinstance(c, TransferStart) and c.site == "b")

    assert start.to == "d@b.example"
    assert start.package is Package.PREMIUM
    assert start.package_paid_until is not None
    assert start.package_paid_until.isoformat() == "2027-01-01"


def test_a_change_serialises_its_fields_under_details() -> None:
    change = CollaboratorAdd(site=SITE, email="tom@freelance.example", role=Role.VIEWER)

    assert change.model_dump(mode="json") == {
        "site": SITE,
        "action": "collaborator.add",
        "details": {"email": "tom@freelance.example", "role": "viewer"},
    }
    assert change_from_json(change.model_dump(mode="json")) == change


@pytest.mark.parametrize(
    ("details", "words"),
    [
        ({"email": "tom@freelance.example", "role": "viewer", "rol": "x"}, "Extra inputs"),
        ({"email": "tom@freelance.example", "role": "owner"}, "'owner' is not a role"),
        ({"email": "tom@freelance.example", "role": "viewer", "site": "other"}, "repeat site"),
        ("not an object", "details must be an object"),
    ],
)
def test_a_change_with_unknown_or_wrong_details_is_refused(details: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        change_from_json({"site": SITE, "action": "collaborator.add", "details": details})


def test_a_change_the_platform_cannot_make_is_a_blocked_note_not_a_change() -> None:
    want = desired(owner=CLIENT, collaborators={EXPERT: "editor"})
    have = observed()
    without_transfers = EVERY_CAPABILITY - {Capability.TRANSFERS}

    everything = build_plan(EXPERT, by_id([want]), by_id([have]))
    limited = build_plan(EXPERT, by_id([want]), by_id([have]), capabilities=without_transfers)

    assert any(c.is_handover for c in everything.changes)
    assert not any(c.is_handover for c in limited.changes)
    assert [n.message for n in limited.notes_of(NoteKind.BLOCKED)] == [
        "this platform's API has no transfers writes: transfer.start "
        f"({CLIENT}) must be done by hand on the platform"
    ]
