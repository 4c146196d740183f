"""Accounts and a seed shared by the client tests."""

from __future__ import annotations

from reconciler.model import AccountKind, Package, Role
from reconciler.platform.client import RetryPolicy
from reconciler.sandbox.server import EmbeddedSandbox

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
"""Quick retries, so that tests under faults stay fast."""

STUDIO = "studio@pixel.example"
ANNA = "anna@acme-bakery.example"
BEN = "ben@bens-bikes.example"
TOKENS = {
    STUDIO: "studio-secret-token-0001",
    ANNA: "anna-secret-token-0002",
    BEN: "ben-secret-token-0003",
}


def seed(sandbox: EmbeddedSandbox, sites: int = 3) -> list[str]:
    """Three accounts and ``sites`` free sites owned by the studio; returns their ids."""
    store = sandbox.store
    store.ensure_account(STUDIO, AccountKind.EXPERT, token=TOKENS[STUDIO])
    store.ensure_account(ANNA, AccountKind.CUSTOMER, token=TOKENS[ANNA])
    store.ensure_account(BEN, AccountKind.CUSTOMER, token=TOKENS[BEN])
    ids = [f"site-{n:03d}" for n in range(sites)]
    with store.transaction() as tx:
        tx.insert_sites(
            (site_id, site_id.title(), STUDIO, STUDIO, Package.FREE, None, {BEN: Role.VIEWER})
            for site_id in ids
        )
    return ids
