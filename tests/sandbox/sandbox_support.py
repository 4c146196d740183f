"""Accounts, a clock and a seed shared by the sandbox tests."""

from __future__ import annotations

from reconciler.model import AccountKind, Package, Role
from support.repo import EXPERT
from support.sandbox import FakeClock, Sandbox

__all__ = ["FakeClock"]

STUDIO = EXPERT
ANNA = "anna@acme-bakery.example"
BEN = "ben@bens-bikes.example"
RIVAL = "rival@other-agency.example"
TOM = "tom@freelance.example"
TOKENS = {STUDIO: "studio-token", ANNA: "anna-token", BEN: "ben-token", RIVAL: "rival-token"}
READ_TOKENS = {STUDIO: "studio-read-token"}
"""Tokens with the ``read`` scope (platform rule 11); the others have ``write``."""


def seed_people(sandbox: Sandbox) -> None:
    """Four accounts and one free site, acme-bakery, owned by the studio with Tom viewing."""
    store = sandbox.store
    store.ensure_account(
        STUDIO, AccountKind.EXPERT, token=TOKENS[STUDIO], read_token=READ_TOKENS[STUDIO]
    )
    store.ensure_account(RIVAL, AccountKind.EXPERT, token=TOKENS[RIVAL])
    store.ensure_account(ANNA, AccountKind.CUSTOMER, token=TOKENS[ANNA])
    store.ensure_account(BEN, AccountKind.CUSTOMER, token=TOKENS[BEN])
    with store.transaction() as tx:
        tx.put_site(
            "acme-bakery",
            name="ACME Bakery",
            owner=STUDIO,
            billing_contact=STUDIO,
            package=Package.FREE,
            collaborators={TOM: Role.VIEWER},
        )
