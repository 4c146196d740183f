"""Billing: the billing contact, buying a package, and the owner's invoices."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from reconciler.platform.schema import (
    BillingContactRequest,
    InvoiceList,
    Purchase,
    PurchaseRequest,
    Site,
)
from reconciler.sandbox.exchange import ok
from reconciler.sandbox.routes.base import (
    WRITE_ERRORS,
    Caller,
    Store,
    WriteRequest,
    responses,
)
from reconciler.sandbox.store import StoredAnswer, Transaction

router = APIRouter(tags=["billing"])


@router.put(
    "/v1/sites/{site_id}/billing-contact",
    response_model=Site,
    responses=responses(WRITE_ERRORS, 200, etag=True),
)
def set_billing_contact(write: WriteRequest, site_id: str, body: BillingContactRequest) -> Response:
    """Set the address that receives invoices and renewal notices (owner only)."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        site = tx.set_billing_contact(write.caller.email, site_id, body.email, version)
        return ok(200, site, site.version)

    return write.run(body, run)


@router.post(
    "/v1/sites/{site_id}/purchases",
    status_code=201,
    response_model=Purchase,
    responses=responses(WRITE_ERRORS, 201, etag=True),
)
def purchase(write: WriteRequest, site_id: str, body: PurchaseRequest) -> Response:
    """Buy a package (owner only): charges the owner, invoices the owner."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        bought, new_version = tx.purchase(write.caller.email, site_id, body.package, version)
        return ok(201, bought, new_version)

    return write.run(body, run)


@router.get(
    "/v1/sites/{site_id}/invoices",
    response_model=InvoiceList,
    responses=responses((401, 403, 404, 422, 429, 503), 200, etag=False),
)
def invoices(who: Caller, store: Store, site_id: str) -> InvoiceList:
    """The owner's invoices for the site (owner only)."""
    with store.transaction() as tx:
        found, _ = tx.invoices(who.email, site_id)
    return InvoiceList(items=found)
