"""Fixtures of the reconcile tests; plain factories live in ``reconcile_support``.

Test modules import ``reconcile_support``, never ``conftest``: every test folder has a
``conftest`` module, and which one ``import conftest`` finds depends on what pytest
collected first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reconcile_support import (
    CLIENT,
    EVE,
    EXPERT,
    EXPERT_ACCOUNTS,
    FREDA,
    MAX,
    OTHER_CLIENT,
    PAID_UNTIL,
    TOM,
    Fleet,
    Saved,
    by_id,
    desired,
    observed,
    pending,
)

from reconciler.operations.planfile import save_plan
from reconciler.reconcile.plan import build_plan


@pytest.fixture
def fleet() -> Fleet:
    """Five site files and five platform sites: a bit of everything, and old-shop unmanaged."""
    wants = [
        desired(site="a-site", collaborators={TOM: "editor", FREDA: "viewer", MAX: "admin"}),
        desired(CLIENT, site="b-site", collaborators={EXPERT: "editor", EVE: "viewer"}),
        desired(CLIENT, site="c-site", package="premium", billing_contact=CLIENT),
        desired(site="d-site", package="premium", billing_contact=EXPERT_ACCOUNTS),
        desired(site="e-site"),
    ]
    haves = [
        observed(site="a-site", collaborators={MAX: "viewer", EVE: "editor", TOM: "admin"}),
        observed(site="b-site", collaborators={FREDA: "viewer"}, transfer=pending(OTHER_CLIENT)),
        observed(CLIENT, site="c-site", collaborators={EXPERT: "viewer", TOM: "editor"}),
        observed(site="d-site", version=7),
        observed(site="old-shop", package="premium", paid_until=PAID_UNTIL),
    ]
    return wants, haves


@pytest.fixture
def saved(tmp_path: Path, fleet: Fleet) -> Saved:
    """The plan of the fleet, and the file it was saved to."""
    wants, haves = fleet
    plan = build_plan(EXPERT, by_id(wants), by_id(haves))
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    return plan, path
