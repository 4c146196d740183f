"""The plan's shortcut for a site in sync (``in_sync``) never hides what the diff says.

``build_plan`` skips the diff of a site ``in_sync`` finds in sync, so ``in_sync`` must
hold only where ``diff_site`` finds no change and no note, whoever owns the site and
whatever the platform's traits; and it should hold for most sites that are in sync,
or the shortcut saves nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reconcile_support import (
    CLIENT,
    EVE,
    EXPERT,
    EXPERT_ACCOUNTS,
    FREDA,
    MAX,
    OTHER_CLIENT,
    TOM,
    desired,
    observed,
    pending,
)

import reconciler.reconcile.plan as plan_module
from reconciler.model import DesiredSite, EndedTransfer, ObservedSite, Package, Role, TransferEnd
from reconciler.platform.base import Capability, Traits
from reconciler.reconcile.diff import Facts, diff_site, in_sync
from reconciler.reconcile.plan import build_plan

PEOPLE = [EXPERT, TOM, FREDA, MAX, EVE, CLIENT]
OWNERS = [EXPERT, CLIENT, OTHER_CLIENT]
ACCESS = st.dictionaries(st.sampled_from(PEOPLE), st.sampled_from(list(Role)), max_size=4)
NOW = datetime(2024, 5, 10, tzinfo=UTC)
TRAITS = [
    Traits(),
    Traits(collaborator_cap=False, packages_are_purchases=False),
    Traits(handover_keeps_collaborators=False, packages=frozenset({Package.FREE})),
    Traits(by_hand={Capability.COLLABORATORS: "by hand"}, notes=("a platform note",)),
]
LAST = EndedTransfer(
    id="tr-0",
    to=CLIENT,
    stay_as_collaborator=False,
    status=TransferEnd.DECLINED,
    created_at=datetime(2024, 4, 1, tzinfo=UTC),
    ended_at=datetime(2024, 4, 3, tzinfo=UTC),
)


@st.composite
def observed_sites(draw: st.DrawFn) -> ObservedSite:
    owner = draw(st.sampled_from(OWNERS))
    site = observed(
        owner,
        billing_contact=draw(st.sampled_from([owner, EXPERT_ACCOUNTS])),
        collaborators=draw(ACCESS),
        package=draw(st.sampled_from([p.value for p in Package])),
        transfer=draw(
            st.none() | st.none() | st.builds(pending, st.sampled_from(OWNERS), stay=st.booleans())
        ),
        last=draw(st.none() | st.just(LAST)),
        version=draw(st.integers(1, 100)),
    )
    update: dict[str, object] = {"package_known": draw(st.sampled_from([True, True, False]))}
    if draw(st.integers(0, 3)) == 0:
        update["unmapped_access"] = draw(
            st.dictionaries(st.sampled_from(PEOPLE), st.just("custom"), max_size=2)
        )
    return site.model_copy(update=update)


@st.composite
def desired_like(draw: st.DrawFn, have: ObservedSite) -> DesiredSite:
    """A site file mostly like ``have``: each key the same, left out, or different."""

    def pick(same: object, other: st.SearchStrategy[object]) -> object:
        return draw(st.sampled_from([same, same, None]) | other)

    owner = draw(st.sampled_from([have.owner, have.owner, have.owner, *OWNERS]))
    collaborators = pick(dict(have.collaborators), ACCESS)
    departed = draw(
        st.just({})
        | st.just({})
        | st.dictionaries(st.sampled_from(PEOPLE), st.just(date(2024, 1, 1)), max_size=2)
    )
    return desired(
        owner,
        billing_contact=pick(have.billing_contact, st.sampled_from([owner, EXPERT_ACCOUNTS])),  # type: ignore[arg-type]
        collaborators=collaborators,  # type: ignore[arg-type]
        package=pick(have.package.value, st.sampled_from([p.value for p in Package])),  # type: ignore[arg-type]
        departed=departed,
    )


@settings(max_examples=400, deadline=None, database=None)
@given(have=observed_sites(), data=st.data(), traits=st.sampled_from(TRAITS))
def test_a_site_in_sync_has_an_empty_diff(
    have: ObservedSite, data: st.DataObject, traits: Traits
) -> None:
    want = data.draw(desired_like(have))
    if not in_sync(want, have):
        return
    facts = Facts(now=NOW)

    result = diff_site(EXPERT, want, have, facts, traits)

    assert result.changes == []
    assert result.notes == []


@settings(max_examples=150, deadline=None, database=None)
@given(
    haves=st.lists(observed_sites(), min_size=1, max_size=5),
    data=st.data(),
    traits=st.sampled_from(TRAITS),
)
def test_the_shortcut_makes_the_plan_the_full_diff_makes(
    haves: list[ObservedSite], data: st.DataObject, traits: Traits
) -> None:
    sites = {
        f"site-{n}": have.model_copy(update={"id": f"site-{n}"}) for n, have in enumerate(haves)
    }
    wants = {
        site: data.draw(desired_like(have)).model_copy(update={"id": site})
        for site, have in sites.items()
    }
    facts = Facts(now=NOW)

    fast = build_plan(EXPERT, wants, sites, facts=facts, traits=traits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_module, "in_sync", lambda want, have: False)
        full = build_plan(EXPERT, wants, sites, facts=facts, traits=traits)

    assert fast == full


TABLE = {
    "the expert's site, as the file says": (
        desired(collaborators={TOM: "editor"}),
        observed(collaborators={TOM: "editor"}),
    ),
    "the expert's site, nothing managed": (
        desired(),
        observed(collaborators={TOM: "viewer"}, package="premium"),
    ),
    "a client's site, as the file says": (
        desired(CLIENT, collaborators={EXPERT: "admin"}, package="premium"),
        observed(CLIENT, collaborators={EXPERT: "admin"}, package="premium"),
    ),
    "the billing contact as the file says": (
        desired(billing_contact=EXPERT_ACCOUNTS),
        observed(billing_contact=EXPERT_ACCOUNTS),
    ),
    "someone who left, without access": (
        desired(collaborators={TOM: "editor"}, departed={MAX: date(2024, 1, 1)}),
        observed(collaborators={TOM: "editor"}),
    ),
}


@pytest.mark.parametrize(("want", "have"), TABLE.values(), ids=TABLE.keys())
def test_common_sites_in_sync_take_the_shortcut(want: DesiredSite, have: ObservedSite) -> None:
    assert in_sync(want, have)
    result = diff_site(EXPERT, want, have, Facts(now=NOW))
    assert (result.changes, result.notes) == ([], [])


NOT_IN_SYNC = {
    "a handover": (desired(CLIENT), observed()),
    "a pending transfer": (desired(CLIENT), observed(transfer=pending(CLIENT))),
    "a collaborator to add": (desired(collaborators={TOM: "editor"}), observed()),
    "a package to buy": (desired(package="premium"), observed()),
    "a package the platform cannot name": (
        desired(package="free"),
        observed().model_copy(update={"package_known": False}),
    ),
    "unmapped access": (
        desired(),
        observed().model_copy(update={"unmapped_access": {TOM: "custom"}}),
    ),
    "someone who left, with access": (
        desired(departed={TOM: date(2024, 1, 1)}),
        observed(collaborators={TOM: "editor"}),
    ),
    "another billing contact": (desired(billing_contact=EXPERT_ACCOUNTS), observed()),
}


@pytest.mark.parametrize(("want", "have"), NOT_IN_SYNC.values(), ids=NOT_IN_SYNC.keys())
def test_sites_with_something_to_do_or_say_are_diffed(
    want: DesiredSite, have: ObservedSite
) -> None:
    assert not in_sync(want, have)
