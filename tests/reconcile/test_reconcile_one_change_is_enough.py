"""One reviewed change is enough (DESIGN.md section 5, issue 18 item 3): for every
desired state the expert can reach, plan, apply once, and the next plan has no changes.

Generated observed and desired states of a site, on the sandbox's own store and rules
(a new in-memory platform for each case: the sandbox's routes and the real client with
no socket between them, reconciler.sandbox.memory), through the same Reconciler and
client that ``plan`` and ``apply`` use. "Can reach": the file
validates (no owner among its collaborators, the expert listed only when it hands
over), every person has an account, and the final collaborators fit the final package
(the package the expert buys when it keeps the site; today's when it hands over, the
expert staying counted). Notes of any kind may remain.

``make check`` runs the ``default`` profile (100 cases for each of the three owners a
file may name: 300); ``make property`` the longer ``property`` profile
(HYPOTHESIS_PROFILE=property).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reconcile_support import CLIENT, EVE, EXPERT, EXPERT_ACCOUNTS, FREDA, MAX, OTHER_CLIENT, TOM

from reconciler.desired.config import Config, People
from reconciler.desired.loader import DesiredState
from reconciler.model import COLLABORATOR_CAP, DesiredSite, Package, Role
from reconciler.operations.reconcile import Reconciler
from reconciler.platform.reconciler import ReconcilerPlatform
from reconciler.sandbox.memory import MemorySandbox
from reconciler.sandbox.seed import Seed, apply_seed

SITE = "bakery"  # the site of a case; each case has a platform of its own
PEOPLE = [TOM, FREDA, MAX, EVE]
CLIENTS = [CLIENT, OTHER_CLIENT]
ROLES = st.sampled_from(list(Role))

settings.register_profile(
    "default",
    max_examples=100,  # for each owner: 300 cases in all
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("property", parent=settings.get_profile("default"), max_examples=1000)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@st.composite
def platforms(draw: st.DrawFn) -> dict[str, Any]:
    """A site the expert owns, within its package's cap, maybe with a pending handover."""
    package = draw(st.sampled_from(list(Package)))
    cap = COLLABORATOR_CAP[package]
    access = draw(st.dictionaries(st.sampled_from(PEOPLE), ROLES, max_size=cap))
    pending = draw(st.none() | st.tuples(st.sampled_from(CLIENTS), st.booleans()))
    if pending is not None and pending[1] and len(access) + 1 > cap:
        pending = (pending[0], False)  # the platform refuses a stay it has no room for
    return {
        "package": package,
        "collaborators": {email: role.value for email, role in access.items()},
        "billing_contact": draw(st.sampled_from([EXPERT, EXPERT_ACCOUNTS])),
        "pending": pending,
    }


@st.composite
def files(draw: st.DrawFn, owner: str) -> DesiredSite:
    listed = PEOPLE if owner == EXPERT else [*PEOPLE, EXPERT]
    collaborators = draw(st.none() | st.dictionaries(st.sampled_from(listed), ROLES))
    billing = [None, EXPERT_ACCOUNTS] if owner == EXPERT else [None, owner]
    return DesiredSite.model_validate(
        {
            "id": SITE,
            "owner": owner,
            "collaborators": collaborators,
            "package": draw(st.none() | st.sampled_from(list(Package))),
            "billing_contact": draw(st.sampled_from(billing)),
        }
    )


def reachable(want: DesiredSite, have: dict[str, Any]) -> bool:
    """The final collaborators fit the final package."""
    package: Package = have["package"]
    if want.owner == EXPERT and want.package is Package.PREMIUM:
        package = Package.PREMIUM
    final = len(have["collaborators"]) if want.collaborators is None else len(want.collaborators)
    return final <= COLLABORATOR_CAP[package]


ACCOUNTS = [EXPERT_ACCOUNTS, *PEOPLE, *CLIENTS]
SEED = Seed.model_validate(
    {
        "accounts": [
            {"email": EXPERT, "kind": "expert", "token": "studio-token"},
            *({"email": email, "kind": "customer"} for email in ACCOUNTS),
        ]
    }
)


@contextmanager
def platform_with(have: dict[str, Any]) -> Iterator[ReconcilerPlatform]:
    """A new in-memory platform (a millisecond's work) holding every account and one
    site as ``have`` describes it; the expert's platform on it."""
    with MemorySandbox() as sandbox:
        apply_seed(sandbox.store, SEED)
        site = {
            "id": SITE,
            "name": SITE,
            "owner": EXPERT,
            "billing_contact": have["billing_contact"],
            "package": have["package"].value,
            "collaborators": have["collaborators"],
        }
        apply_seed(sandbox.store, Seed.model_validate({"sites": [site]}))
        if have["pending"] is not None:
            to, stay = have["pending"]
            with sandbox.store.transaction() as tx:
                tx.start_transfer(EXPERT, SITE, to, stay, None)
        platform = sandbox.platform("studio-token")
        try:
            yield platform
        finally:
            platform.close()


def _state(want: DesiredSite) -> DesiredState:
    return DesiredState(
        root=Path("."), config=Config(expert=EXPERT), people=People(), sites={want.id: want}
    )


def check_one_change_is_enough(want: DesiredSite, have: dict[str, Any]) -> None:
    with platform_with(have) as platform:
        first = Reconciler(_state(want), platform)
        plan = first.plan(scope=[want.id])
        report = first.apply(plan, parallelism=1)
        again = Reconciler(_state(want), platform).plan(scope=[want.id])

    assert report.ok, [(r.change, r.reason) for r in report.results if r.reason]
    assert again.changes == (), (plan.changes, again.changes, again.notes)


@PROFILE
@pytest.mark.parametrize("owner", [EXPERT, CLIENT, OTHER_CLIENT])
@given(data=st.data(), have=platforms())
def test_one_reviewed_change_is_enough(
    owner: str, data: st.DataObject, have: dict[str, Any]
) -> None:
    want = data.draw(files(owner))
    assume(reachable(want, have))
    check_one_change_is_enough(want, have)


def test_found_case_a_handover_that_keeps_the_expert_makes_room() -> None:
    """Issue 18: the file hands over, keeps the expert, removes eve and lowers tom."""
    want = DesiredSite.model_validate(
        {"id": SITE, "owner": CLIENT, "collaborators": {EXPERT: "editor", TOM: "viewer"}}
    )
    have = {
        "package": Package.FREE,
        "collaborators": {EVE: "editor", TOM: "editor"},
        "billing_contact": EXPERT,
        "pending": None,
    }
    check_one_change_is_enough(want, have)
