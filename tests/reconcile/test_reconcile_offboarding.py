"""Offboarding (DESIGN.md section 3): a person marked `left:` in people.yaml is dropped
from every site whose file manages collaborators; elsewhere the plan says who must act."""

from __future__ import annotations

from datetime import date

from reconcile_support import CLIENT, EXPERT, FREDA, TOM, desired, note_pairs, observed

from reconciler.reconcile.diff import diff_site

LEFT = {TOM: date(2026, 11, 27)}


def actions(result: object) -> list[tuple[str, str]]:
    return [(c.action.value, getattr(c, "email", "")) for c in result.changes]  # type: ignore[attr-defined]


def test_a_managed_site_removes_the_person_even_when_the_file_still_lists_them() -> None:
    want = desired(collaborators={TOM: "editor", FREDA: "viewer"}, departed=LEFT)
    have = observed(collaborators={TOM: "editor", FREDA: "viewer"})

    result = diff_site(EXPERT, want, have)

    assert actions(result) == [("collaborator.remove", TOM)]
    assert result.notes == []


def test_a_handover_also_drops_the_person() -> None:
    want = desired(CLIENT, collaborators={EXPERT: "editor", TOM: "viewer"}, departed=LEFT)
    have = observed(collaborators={TOM: "viewer"})

    changes = diff_site(EXPERT, want, have).changes

    assert sorted(c.action.value for c in changes) == ["collaborator.remove", "transfer.start"]


def test_a_client_site_where_the_expert_is_admin_removes_the_person() -> None:
    want = desired(CLIENT, collaborators={EXPERT: "admin", TOM: "viewer"}, departed=LEFT)
    have = observed(CLIENT, collaborators={EXPERT: "admin", TOM: "viewer"})

    assert actions(diff_site(EXPERT, want, have)) == [("collaborator.remove", TOM)]


def test_a_client_site_where_the_expert_cannot_remove_names_the_owner() -> None:
    want = desired(CLIENT, collaborators={EXPERT: "editor", TOM: "viewer"}, departed=LEFT)
    have = observed(CLIENT, collaborators={EXPERT: "editor", TOM: "viewer"})

    result = diff_site(EXPERT, want, have)

    assert result.changes == []
    assert note_pairs(result.notes) == [
        (
            "blocked",
            f"{TOM} left on 2026-11-27 (people.yaml); {CLIENT} owns the site and must "
            "remove them (viewer)",
        )
    ]


def test_a_file_without_collaborators_warns_that_the_person_still_has_access() -> None:
    want = desired(departed=LEFT)
    have = observed(collaborators={TOM: "editor", FREDA: "viewer"})

    result = diff_site(EXPERT, want, have)

    assert result.changes == []
    assert note_pairs(result.notes) == [
        (
            "warning",
            f"{TOM} left on 2026-11-27 (people.yaml) but still has editor access here: "
            "sites/acme-bakery.yaml leaves `collaborators` out, so access is not managed; "
            f"list the collaborators to remove {TOM}",
        )
    ]


def test_nothing_is_said_where_the_person_has_no_access() -> None:
    result = diff_site(EXPERT, desired(departed=LEFT), observed(collaborators={FREDA: "viewer"}))

    assert (result.changes, result.notes) == ([], [])
