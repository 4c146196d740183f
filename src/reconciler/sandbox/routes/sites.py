"""Sites: the listing and one site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from reconciler.platform.schema import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Site, SitePage
from reconciler.sandbox.exchange import ok
from reconciler.sandbox.routes.base import (
    READ_ERRORS,
    READ_RESPONSES,
    Caller,
    Store,
    response_of,
    responses,
)
from reconciler.sandbox.store import CURSOR_PATTERN

router = APIRouter(tags=["sites"])


@router.get("/v1/sites", response_model=SitePage, responses=READ_RESPONSES)
def list_sites(
    who: Caller,
    store: Store,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="next_cursor of the previous page; any cursor of this form is a place "
            "in the order of ids",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
) -> Response:
    """Sites the caller owns or collaborates on, sorted by id, one page at a time."""
    with store.transaction() as tx:
        page = tx.list_sites(who.email, limit, cursor)
    # Serialised once here: returning the model would make FastAPI validate it again.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get(
    "/v1/sites/{site_id}", response_model=Site, responses=responses(READ_ERRORS, 200, etag=True)
)
def get_site(who: Caller, store: Store, site_id: str) -> Response:
    """One site with its pending transfer; ``ETag`` is its version."""
    with store.transaction() as tx:
        site = tx.visible_site(who.email, site_id)
    return response_of(ok(200, site, site.version))
