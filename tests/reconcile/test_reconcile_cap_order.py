"""Order at the collaborator cap (DESIGN.md section 5, rule 9): whenever the end state
fits the package, every step on the way fits too, so one reviewed change is enough."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from reconcile_support import EVE, EXPERT, FREDA, MAX, SITE, TOM, desired, observed

from reconciler.model import COLLABORATOR_CAP, Package, Role
from reconciler.reconcile.changes import (
    CollaboratorAdd,
    CollaboratorRemove,
    CollaboratorUpdate,
    PackagePurchase,
)
from reconciler.reconcile.plan import build_plan
from reconciler.render.plan import as_text

PEOPLE = [TOM, FREDA, MAX, EVE, "ivy@freelance.example", "joe@freelance.example"]
ACCESS = st.dictionaries(st.sampled_from(PEOPLE), st.sampled_from(list(Role)), max_size=6)


@settings(max_examples=200, deadline=None, database=None)
@given(
    now=ACCESS,
    wanted=ACCESS,
    package=st.sampled_from(list(Package)),
    wanted_package=st.none() | st.sampled_from(list(Package)),
)
def test_a_plan_that_ends_within_the_cap_never_goes_over_it(
    now: dict[str, Role], wanted: dict[str, Role], package: Package, wanted_package: Package | None
) -> None:
    end_package = Package.PREMIUM if Package.PREMIUM in (package, wanted_package) else package
    if len(now) > COLLABORATOR_CAP[package] or len(wanted) > COLLABORATOR_CAP[end_package]:
        return  # the platform never has more than its cap; the file asks for too many
    want = desired(
        collaborators=wanted,
        package=None if wanted_package is None else wanted_package.value,
    )
    plan = build_plan(
        EXPERT, {SITE: want}, {SITE: observed(collaborators=now, package=package.value)}
    )

    count, cap = len(now), COLLABORATOR_CAP[package]
    for change in plan.changes:
        match change:
            case CollaboratorAdd():
                count += 1
                assert count <= cap, as_text(plan)
            case CollaboratorRemove():
                count -= 1
            case PackagePurchase():
                cap = COLLABORATOR_CAP[change.package]
            case CollaboratorUpdate():
                pass
    assert not [note for note in plan.notes if "will refuse" in note.message]


def test_the_plan_says_why_a_step_comes_first() -> None:
    swap = build_plan(
        EXPERT,
        {SITE: desired(collaborators={TOM: "editor", MAX: "viewer"})},
        {SITE: observed(collaborators={FREDA: "editor", MAX: "viewer"})},
    )
    upgrade = build_plan(
        EXPERT,
        {
            SITE: desired(
                collaborators={TOM: "editor", MAX: "viewer", EVE: "viewer"}, package="premium"
            )
        },
        {SITE: observed(collaborators={TOM: "editor", MAX: "viewer"})},
    )

    assert as_text(swap).splitlines()[1:3] == [
        f"  - collaborator.remove  remove {FREDA} (was editor), first: it makes room for the "
        "additions",
        f"  + collaborator.add     give {TOM} editor access",
    ]
    assert as_text(upgrade).splitlines()[1:3] == [
        "  $ package.purchase     buy premium (charged to the expert, who owns and keeps the "
        "site), first: it raises the collaborator cap",
        f"  + collaborator.add     give {EVE} viewer access",
    ]
