"""What every route shares: the caller, the store, the OpenAPI error texts, and the one
helper every write goes through (authentication, Idempotency-Key replay, If-Match,
problem answers)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from reconciler.model import normalise_email
from reconciler.platform.schema import Account, ProblemDetails
from reconciler.sandbox.store import Refusal, SandboxStore, StoredAnswer, Transaction, unprocessable

PROBLEM_MEDIA_TYPE = "application/problem+json"

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


def current_caller(
    store: Store,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Account:
    """The account whose bearer token came with the request; 401 otherwise."""
    if credentials is None:
        raise Refusal(
            401, "Unauthorized", "Send your API token as 'Authorization: Bearer <token>'."
        )
    account = store.account_for_token(credentials.credentials)
    if account is None:
        raise Refusal(
            401, "Unauthorized", "The API token is unknown or revoked; use a valid token."
        )
    return account


Caller = Annotated[Account, Depends(current_caller)]


def path_email(value: str) -> str:
    """An e-mail address from the path, normalised; a malformed one is a 422."""
    try:
        return normalise_email(value)
    except ValueError as exc:
        raise unprocessable(str(exc)) from None


# -- answers --


def response_of(answer: StoredAnswer) -> Response:
    """The HTTP answer of a stored (or fresh) one: problem+json for errors."""
    headers = {} if answer.etag is None else {"ETag": f'"{answer.etag}"'}
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    media_type = PROBLEM_MEDIA_TYPE if answer.status >= 400 else "application/json"
    return Response(answer.body, status_code=answer.status, headers=headers, media_type=media_type)


def ok(status: int, value: BaseModel | None, version: int) -> StoredAnswer:
    """A successful answer: ``value`` as the body (none for 204), ``version`` as ETag."""
    body = None if value is None else value.model_dump_json()
    return StoredAnswer(status=status, body=body, etag=version)


def _answer_of_refusal(refusal: Refusal) -> StoredAnswer:
    body = ProblemDetails(title=refusal.title, status=refusal.status, detail=refusal.detail)
    return StoredAnswer(status=refusal.status, body=body.model_dump_json(), etag=None)


# -- the one write helper --


def _parse_if_match(value: str | None) -> int | None:
    """``"3"`` (or ``W/"3"``, ``3``) -> 3; ``*`` or absent -> unconditional."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit():
        raise unprocessable(
            f'If-Match must be a site version in quotes, like "3" (from the ETag), not {value!r}.'
        )
    return int(text)


Operation = Callable[[Transaction, int | None], StoredAnswer]
"""A write's work inside the transaction, given the version If-Match names (or None)."""

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The site version the change is based on, e.g. "3"'),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a write safely: the first answer is replayed for this key",
    ),
]


@dataclass(frozen=True)
class Write:
    """One write request: who sends it, to where, and under which conditions."""

    store: SandboxStore
    caller: Account
    method: str
    path: str
    key: str | None
    if_match: str | None

    def run(self, body: BaseModel | None, operation: Operation) -> Response:
        """One transaction: replay by key, then check If-Match, then run and remember.

        A refusal is an answer like any other: it is stored under the key and replayed.
        """
        fingerprint = self._fingerprint(body)
        account = self.caller.email
        with self.store.transaction() as tx:
            if self.key is not None:
                replay = tx.recall(account, self.key, fingerprint)
                if replay is not None:
                    return response_of(replay)
            try:
                with tx.savepoint():
                    answer = operation(tx, _parse_if_match(self.if_match))
            except Refusal as refusal:
                answer = _answer_of_refusal(refusal)
            if self.key is not None:
                tx.remember(account, self.key, fingerprint, answer)
        return response_of(answer)

    def _fingerprint(self, body: BaseModel | None) -> str:
        text = "" if body is None else body.model_dump_json()
        return hashlib.sha256(f"{self.method} {self.path}\n{text}".encode()).hexdigest()


def write_request(
    request: Request,
    store: Store,
    caller: Caller,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Write:
    return Write(store, caller, request.method, request.url.path, idempotency_key, if_match)


WriteRequest = Annotated[Write, Depends(write_request)]
"""A write route's parameter: the caller and the write's headers, checked and parsed."""
