"""``GET /v1/me``: the caller's account."""

from __future__ import annotations

from fastapi import APIRouter

from reconciler.platform.schema import Account
from reconciler.sandbox.routes.base import READ_RESPONSES, Caller

router = APIRouter(tags=["accounts"])


@router.get("/v1/me", response_model=Account, responses=READ_RESPONSES)
def me(who: Caller) -> Account:
    """The caller's account."""
    return who
