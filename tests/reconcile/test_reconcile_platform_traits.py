"""A platform whose rules differ from DESIGN.md section 2 (Duda's, section 9): no
collaborator cap, packages that are feature plans, what its API cannot do said in its
own words, and access that maps to no role left alone. Pure: build_plan only."""

from __future__ import annotations

from reconcile_support import CLIENT, EXPERT, MAX, SITE, TOM, by_id, desired, observed

from reconciler.model import DesiredSite, ObservedSite, Package
from reconciler.platform.base import Capability, Traits
from reconciler.reconcile.changes import NoteKind, PackagePurchase
from reconciler.reconcile.plan import Plan, build_plan

DUDA_LIKE = Traits(
    collaborator_cap=False,
    packages_are_purchases=False,
    by_hand={Capability.TRANSFERS: "cannot be made here: use the dashboard"},
    notes=("accounts named nowhere are invisible",),
    reads_by_address=True,
    handover_keeps_collaborators=False,
)
CAN = frozenset({Capability.COLLABORATORS, Capability.PACKAGES})


def plan(want: DesiredSite, have: ObservedSite, traits: Traits = DUDA_LIKE) -> Plan:
    return build_plan(EXPERT, by_id([want]), by_id([have]), capabilities=CAN, traits=traits)


def test_without_a_cap_every_addition_is_planned() -> None:
    people = {f"p{n}@freelance.example": "editor" for n in range(5)}

    capped = build_plan(EXPERT, by_id([desired(collaborators=people)]), by_id([observed()]))
    uncapped = plan(desired(collaborators=people), observed())

    assert any(note.kind is NoteKind.BLOCKED for note in capped.notes)  # free allows 2
    assert [change.action.value for change in uncapped.changes] == ["collaborator.add"] * 5


def test_a_feature_plan_is_set_either_way_and_also_for_a_site_the_file_hands_over() -> None:
    down = plan(desired(package="free"), observed(package="premium"))
    handed = plan(desired(CLIENT, package="premium"), observed())

    set_plans = [c for c in down.changes if isinstance(c, PackagePurchase)]
    assert [(c.package.value, c.previous.value) for c in set_plans] == [("free", "premium")]
    purchase = next(c for c in handed.changes if isinstance(c, PackagePurchase))
    assert purchase.feature_plan is True
    assert not [note for note in handed.notes if note.kind is NoteKind.WAITING]


def test_a_package_the_platform_could_not_map_is_set_to_the_files() -> None:
    have = observed().model_copy(update={"package_known": False})

    result = plan(desired(package="free"), have)

    assert [change.action.value for change in result.changes] == ["package.purchase"]


def test_what_the_api_cannot_do_is_blocked_in_the_platforms_words_and_its_notes_said_once() -> None:
    result = plan(desired(CLIENT), observed())

    blocked = [note.message for note in result.notes if note.kind is NoteKind.BLOCKED]
    assert blocked == [
        "this platform's API has no transfers writes: transfer.start "
        f"({CLIENT}) cannot be made here: use the dashboard"
    ]
    said = [note for note in result.notes if note.message == DUDA_LIKE.notes[0]]
    assert len(said) == 1
    assert said[0].kind is NoteKind.INFO
    assert result.changes == ()


def test_access_that_maps_to_no_role_is_a_warning_and_left_alone() -> None:
    have = observed(collaborators={MAX: "viewer"}).model_copy(
        update={"unmapped_access": {TOM: "BLOG, SEO"}}
    )

    listed = plan(desired(collaborators={TOM: "editor", MAX: "viewer"}), have)
    left_out = plan(desired(collaborators={}), have)

    assert listed.changes == ()
    warnings = [note.message for note in listed.notes if note.kind is NoteKind.WARNING]
    assert warnings == [
        f"{TOM} has access that matches no role (BLOG, SEO); left alone: give them a role's "
        "access on the platform, or map a role to it in reconciler.yaml"
    ]
    assert [(c.action.value, c.email) for c in left_out.changes] == [  # type: ignore[union-attr]
        ("collaborator.remove", MAX)
    ]
    assert SITE in {note.site for note in left_out.notes}


def test_no_advice_about_staying_on_where_a_handover_cannot_keep_anyone() -> None:
    sandbox_like = plan(desired(CLIENT), observed(), Traits())
    duda_like = plan(desired(CLIENT), observed())

    assert NoteKind.WARNING in [note.kind for note in sandbox_like.notes if note.site == SITE]
    assert [note.kind for note in duda_like.notes if note.site == SITE] == [NoteKind.BLOCKED]


def test_a_package_the_platform_block_maps_to_no_plan_is_blocked_not_written() -> None:
    only_free = Traits(
        packages_are_purchases=False,
        packages=frozenset({Package.FREE}),
        packages_hint="add it to `plans:`",
    )

    result = plan(desired(package="premium"), observed(), only_free)

    assert result.changes == ()
    assert [note.message for note in result.notes if note.kind is NoteKind.BLOCKED] == [
        "the platform block maps no plan to premium: package.purchase (premium) is not "
        "made; add it to `plans:`"
    ]
