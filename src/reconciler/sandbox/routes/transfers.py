"""Transfers (handovers): the owner starts or cancels one, the recipient answers it;
both parties list them, the former owner too once it no longer sees the site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from reconciler.platform.schema import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Transfer,
    TransferDirection,
    TransferList,
    TransferPage,
    TransferRequest,
)
from reconciler.sandbox.exchange import ok
from reconciler.sandbox.routes.base import (
    READ_RESPONSES,
    WRITE_ERRORS,
    Caller,
    Store,
    WriteRequest,
    responses,
)
from reconciler.sandbox.store import TRANSFER_CURSOR_PATTERN, StoredAnswer, Transaction

router = APIRouter(tags=["transfers"])


@router.post(
    "/v1/sites/{site_id}/transfers",
    status_code=201,
    response_model=Transfer,
    responses=responses(WRITE_ERRORS, 201, etag=True),
)
def start_transfer(write: WriteRequest, site_id: str, body: TransferRequest) -> Response:
    """Start a handover to an existing account (owner only); it stays pending."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        transfer, new_version = tx.start_transfer(
            write.caller.email, site_id, body.to, body.stay_as_collaborator, version
        )
        return ok(201, transfer, new_version)

    return write.run(body, run)


@router.delete(
    "/v1/sites/{site_id}/transfers/{transfer_id}",
    status_code=204,
    response_class=Response,
    responses=responses(WRITE_ERRORS, 204, etag=True),
)
def cancel_transfer(write: WriteRequest, site_id: str, transfer_id: str) -> Response:
    """Cancel a pending transfer (owner only)."""

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        return ok(204, None, tx.cancel_transfer(write.caller.email, site_id, transfer_id, version))

    return write.run(None, run)


def _respond_route(accept: bool) -> Callable[..., Response]:
    def respond(write: WriteRequest, transfer_id: str) -> Response:
        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            transfer, new_version = tx.respond_to_transfer(
                write.caller.email, transfer_id, accept, version
            )
            return ok(200, transfer, new_version)

        return write.run(None, run)

    verb = "accept" if accept else "decline"
    respond.__name__ = f"{verb}_transfer"
    respond.__doc__ = f"The recipient {verb}s a pending transfer (recipient only)."
    return respond


for _verb in ("accept", "decline"):
    router.post(
        f"/v1/transfers/{{transfer_id}}/{_verb}",
        response_model=Transfer,
        responses=responses(WRITE_ERRORS, 200, etag=True),
    )(_respond_route(_verb == "accept"))


# Declared after the writes: a path's first route answers 405s, as before.
@router.get("/v1/sites/{site_id}/transfers", response_model=TransferList, responses=READ_RESPONSES)
def site_transfers(who: Caller, store: Store, site_id: str) -> Response:
    """Every transfer of the site, newest first, whatever its status."""
    with store.transaction() as tx:
        found = TransferList(items=tx.site_transfers(who.email, site_id))
    return Response(found.model_dump_json(), media_type="application/json")


@router.get("/v1/transfers", response_model=TransferPage, responses=READ_RESPONSES)
def list_transfers(
    who: Caller,
    store: Store,
    direction: TransferDirection,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="next_cursor of the previous page; any cursor of this form is a place "
            "in the order",
            json_schema_extra={"pattern": TRANSFER_CURSOR_PATTERN},
        ),
    ] = None,
) -> Response:
    """The transfers the caller sent (even of sites it no longer sees) or received,
    newest first, one page at a time."""
    with store.transaction() as tx:
        page = tx.transfers_page(who.email, direction, limit, cursor)
    return Response(page.model_dump_json(), media_type="application/json")
