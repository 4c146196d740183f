"""What every route shares: the caller, the store, the OpenAPI error texts, and the one
helper every write goes through (authentication, Idempotency-Key replay, If-Match,
problem answers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from reconciler.platform.schema import Account, ProblemDetails
from reconciler.sandbox import exchange
from reconciler.sandbox.exchange import (
    PROBLEM_MEDIA_TYPE,
    Operation,
    grant_of,
)
from reconciler.sandbox.store import Grant, SandboxStore, StoredAnswer

# -- OpenAPI descriptions of the answers --

_ETAG = {"ETag": {"description": 'The site\'s version, e.g. "3"', "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
_ERROR_TEXT = {
    401: "The bearer token is missing or unknown",
    403: "The caller sees the site but may not make this change",
    404: "No such site, or the caller may not see it",
    409: "A platform rule refuses the change",
    412: "If-Match names a version the site is no longer at",
    422: "The request is malformed",
    429: "Too many requests",
    503: "The platform is unavailable; retry later",
}
READ_ERRORS = (401, 404, 422, 429, 503)
WRITE_ERRORS = (401, 403, 404, 409, 412, 422, 429, 503)


def responses(errors: Sequence[int], ok: int, *, etag: bool) -> dict[int | str, Any]:
    """The OpenAPI ``responses`` of a route: its error answers, and ``ETag`` if it has one."""
    described: dict[int | str, Any] = {
        status: {"model": ProblemDetails, "description": _ERROR_TEXT[status]} for status in errors
    }
    if 429 in errors:
        described[429]["headers"] = _RETRY_AFTER
    if etag:
        described[ok] = {"headers": _ETAG}
    return described


READ_RESPONSES = responses(READ_ERRORS, 200, etag=False)

# -- the caller and the store --

bearer = HTTPBearer(auto_error=False, description="The account's API token")


def _store(request: Request) -> SandboxStore:
    store: SandboxStore = request.app.state.store
    return store


Store = Annotated[SandboxStore, Depends(_store)]


def current_grant(
    store: Store,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Grant:
    """The account whose bearer token came with the request, and the token's scope."""
    return grant_of(store, None if credentials is None else credentials.credentials)


def current_caller(grant: Annotated[Grant, Depends(current_grant)]) -> Account:
    """The caller of a read: any token of the account will do."""
    return grant.account


Caller = Annotated[Account, Depends(current_caller)]


# -- answers --


def response_of(answer: StoredAnswer) -> Response:
    """The HTTP answer of a stored (or fresh) one: problem+json for errors."""
    headers = {} if answer.etag is None else {"ETag": f'"{answer.etag}"'}
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    media_type = PROBLEM_MEDIA_TYPE if answer.status >= 400 else "application/json"
    return Response(answer.body, status_code=answer.status, headers=headers, media_type=media_type)


# -- the one write helper --


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag the change is based on, e.g. "3" (or *: unconditional). Entity '
        "tags are opaque and compared strongly: any other tag is answered 412.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a write safely: the first answer is replayed for this key. "
        "Reusing a key for a different request is 409.",
    ),
]


@dataclass(frozen=True)
class Write:
    """One write request; :class:`reconciler.sandbox.exchange.Write` does the work."""

    request: exchange.Write

    @property
    def caller(self) -> Account:
        return self.request.caller

    def run(self, body: BaseModel | None, operation: Operation) -> Response:
        """One transaction: replay by key, then check If-Match, then run and remember."""
        return response_of(self.request.run(body, operation))


DryRun = Annotated[
    bool,
    Query(
        alias="dry_run",
        description="Check everything and answer as the write would, but change nothing "
        "(no charge, no idempotency key kept); a read token is enough",
    ),
]


def write_request(
    request: Request,
    store: Store,
    grant: Annotated[Grant, Depends(current_grant)],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
    dry_run: DryRun = False,
) -> Write:
    path = request.url.path
    return Write(
        exchange.Write(store, grant, request.method, path, idempotency_key, if_match, dry_run)
    )


WriteRequest = Annotated[Write, Depends(write_request)]
"""A write route's parameter: the caller and the write's headers, checked and parsed."""
