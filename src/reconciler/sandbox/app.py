"""The sandbox's HTTP API (DESIGN.md section 6) as a FastAPI application.

Routes are thin: authenticate, parse the conditional and idempotency headers, call one
store operation inside one transaction, turn the result into an answer. Every error is
an ``application/problem+json`` body, FastAPI's own validation and routing errors too.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from reconciler.model import normalise_email
from reconciler.platform.schema import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Account,
    BillingContactRequest,
    CollaboratorRequest,
    InvoiceList,
    Problem,
    Purchase,
    PurchaseRequest,
    Site,
    SitePage,
    Stats,
    Transfer,
    TransferRequest,
)
from reconciler.sandbox.faults import Dice, FaultSpec, RateLimiter
from reconciler.sandbox.store import (
    ProblemError,
    SandboxStore,
    StoredAnswer,
    Transaction,
    unprocessable,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
DROP_EXTENSION = "reconciler.drop_connection"
UNFAULTED_PATHS = frozenset({"/sandbox/stats", "/openapi.json"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def problem_response(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail).model_dump(mode="json")
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


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
_READ_ERRORS = (401, 404, 422, 429, 503)
_WRITE_ERRORS = (401, 403, 404, 409, 412, 422, 429, 503)


def _responses(errors: Sequence[int], ok: int, *, etag: bool) -> dict[int | str, Any]:
    described: dict[int | str, Any] = {
        status: {"model": Problem, "description": _ERROR_TEXT[status]} for status in errors
    }
    if 429 in errors:
        described[429]["headers"] = _RETRY_AFTER
    if etag:
        described[ok] = {"headers": _ETAG}
    return described


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every answer under application/json; errors are problem+json."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


# -- request parsing --


bearer = HTTPBearer(auto_error=False, description="The account's API token")


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


def _path_email(value: str) -> str:
    try:
        return normalise_email(value)
    except ValueError as exc:
        raise unprocessable(str(exc)) from None


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


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Account:
    """The account whose bearer token came with the request; 401 otherwise."""
    if credentials is None:
        raise ProblemError(
            401, "Unauthorized", "Send your API token as 'Authorization: Bearer <token>'."
        )
    store: SandboxStore = request.app.state.store
    account = store.account_for_token(credentials.credentials)
    if account is None:
        raise ProblemError(
            401, "Unauthorized", "The API token is unknown or revoked; use a valid token."
        )
    return account


Caller = Annotated[Account, Depends(current_caller)]


@dataclass(frozen=True)
class WriteRequest:
    """What identifies a write for idempotency, and its conditional header."""

    caller: Account
    method: str
    path: str
    body: BaseModel | None
    key: str | None
    if_match: str | None

    def fingerprint(self) -> str:
        body = "" if self.body is None else self.body.model_dump_json()
        return hashlib.sha256(f"{self.method} {self.path}\n{body}".encode()).hexdigest()


Operation = Callable[[Transaction, int | None], StoredAnswer]


def _answer_of_problem(problem: ProblemError) -> StoredAnswer:
    body = Problem(title=problem.title, status=problem.status, detail=problem.detail)
    return StoredAnswer(status=problem.status, body=body.model_dump_json(), etag=None)


def _response_of(answer: StoredAnswer) -> Response:
    headers = {} if answer.etag is None else {"ETag": f'"{answer.etag}"'}
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    media_type = PROBLEM_MEDIA_TYPE if answer.status >= 400 else "application/json"
    return Response(answer.body, status_code=answer.status, headers=headers, media_type=media_type)


def _ok(status: int, value: BaseModel | None, version: int) -> StoredAnswer:
    body = None if value is None else value.model_dump_json()
    return StoredAnswer(status=status, body=body, etag=version)


class StatsCounter:
    """Counts every request by route template and by status (or ``dropped``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    def count(self, route: str, status: str) -> None:
        with self._lock:
            self._routes[route] += 1
            self._statuses[status] += 1

    def snapshot(self) -> Stats:
        with self._lock:
            return Stats(
                total=sum(self._routes.values()),
                by_route=dict(self._routes),
                by_status=dict(self._statuses),
            )


def create_app(store: SandboxStore, faults: FaultSpec | None = None) -> FastAPI:
    """The sandbox API over ``store``, injecting ``faults`` (none by default)."""
    app = FastAPI(
        title="Site platform sandbox",
        version="1",
        description="A local implementation of the site platform's API.",
        docs_url=None,
        redoc_url=None,
    )
    stats = StatsCounter()
    app.state.store = store
    _install_error_handlers(app)
    _install_routes(app, store, stats)
    app.add_middleware(
        SandboxMiddleware, faults=faults or FaultSpec(), stats=stats, routes=app.router.routes
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            app.openapi_schema = _problem_media_types(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.status, exc.title, exc.detail, _auth_challenge(exc.status))

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, "Unprocessable Content", _validation_detail(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail, status = str(exc.detail), exc.status_code
        if status == 400:
            # FastAPI says 400 for a body it cannot decode; the API documents that as 422.
            detail, status = f"The request body cannot be read as JSON: {detail}", 422
        elif status == 404:
            detail = f"There is no route {request.url.path}; /openapi.json lists the routes."
        elif status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(status, _title_of(status), detail, dict(exc.headers or {}))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _auth_challenge(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


def _title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is malformed."


def _install_routes(app: FastAPI, store: SandboxStore, stats: StatsCounter) -> None:
    def write(request: WriteRequest, operation: Operation) -> Response:
        """One transaction: replay by key, then check If-Match, then run and remember."""
        fingerprint = request.fingerprint()
        account = request.caller.email
        with store.transaction() as tx:
            if request.key is not None:
                replay = tx.recall(account, request.key, fingerprint)
                if replay is not None:
                    return _response_of(replay)
            try:
                with tx.savepoint():
                    answer = operation(tx, _parse_if_match(request.if_match))
            except ProblemError as problem:
                answer = _answer_of_problem(problem)
            if request.key is not None:
                tx.remember(account, request.key, fingerprint, answer)
        return _response_of(answer)

    def write_request(
        http: Request, who: Account, body: BaseModel | None, key: str | None, if_match: str | None
    ) -> WriteRequest:
        return WriteRequest(who, http.method, http.url.path, body, key, if_match)

    read_errors = _responses(_READ_ERRORS, 200, etag=False)

    @app.get("/v1/me", response_model=Account, responses=read_errors, tags=["accounts"])
    def me(who: Caller) -> Account:
        """The caller's account."""
        return who

    @app.get("/v1/sites", response_model=SitePage, responses=read_errors, tags=["sites"])
    def list_sites(
        who: Caller,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        """Sites the caller owns or collaborates on, sorted by id, one page at a time."""
        with store.transaction() as tx:
            page = tx.list_sites(who.email, limit, cursor)
        # Serialised once here: returning the model would make FastAPI validate it again.
        return Response(page.model_dump_json(), media_type="application/json")

    @app.get(
        "/v1/sites/{site_id}",
        response_model=Site,
        responses=_responses(_READ_ERRORS, 200, etag=True),
        tags=["sites"],
    )
    def get_site(who: Caller, site_id: str) -> Response:
        """One site with its pending transfer; ``ETag`` is its version."""
        with store.transaction() as tx:
            site = tx.visible_site(who.email, site_id)
        return _response_of(_ok(200, site, site.version))

    @app.put(
        "/v1/sites/{site_id}/collaborators/{email}",
        response_model=Site,
        responses=_responses(_WRITE_ERRORS, 200, etag=True),
        tags=["collaborators"],
    )
    def put_collaborator(
        http: Request, who: Caller, site_id: str, email: str, body: CollaboratorRequest,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Add a collaborator or change their role (owner or admin collaborator)."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            site = tx.put_collaborator(who.email, site_id, _path_email(email), body.role, version)
            return _ok(200, site, site.version)

        return write(write_request(http, who, body, idempotency_key, if_match), run)

    @app.delete(
        "/v1/sites/{site_id}/collaborators/{email}",
        status_code=204,
        response_class=Response,
        responses=_responses(_WRITE_ERRORS, 204, etag=True),
        tags=["collaborators"],
    )
    def delete_collaborator(
        http: Request, who: Caller, site_id: str, email: str,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Remove a collaborator's access (owner or admin collaborator)."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            site = tx.delete_collaborator(who.email, site_id, _path_email(email), version)
            return _ok(204, None, site.version)

        return write(write_request(http, who, None, idempotency_key, if_match), run)

    @app.put(
        "/v1/sites/{site_id}/billing-contact",
        response_model=Site,
        responses=_responses(_WRITE_ERRORS, 200, etag=True),
        tags=["billing"],
    )
    def set_billing_contact(
        http: Request, who: Caller, site_id: str, body: BillingContactRequest,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Set the address that receives invoices and renewal notices (owner only)."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            site = tx.set_billing_contact(who.email, site_id, body.email, version)
            return _ok(200, site, site.version)

        return write(write_request(http, who, body, idempotency_key, if_match), run)

    @app.post(
        "/v1/sites/{site_id}/transfers",
        status_code=201,
        response_model=Transfer,
        responses=_responses(_WRITE_ERRORS, 201, etag=True),
        tags=["transfers"],
    )
    def start_transfer(
        http: Request, who: Caller, site_id: str, body: TransferRequest,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Start a handover to an existing account (owner only); it stays pending."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            transfer, new_version = tx.start_transfer(
                who.email, site_id, body.to, body.stay_as_collaborator, version
            )
            return _ok(201, transfer, new_version)

        return write(write_request(http, who, body, idempotency_key, if_match), run)

    @app.delete(
        "/v1/sites/{site_id}/transfers/{transfer_id}",
        status_code=204,
        response_class=Response,
        responses=_responses(_WRITE_ERRORS, 204, etag=True),
        tags=["transfers"],
    )
    def cancel_transfer(
        http: Request, who: Caller, site_id: str, transfer_id: str,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Cancel a pending transfer (owner only)."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            return _ok(204, None, tx.cancel_transfer(who.email, site_id, transfer_id, version))

        return write(write_request(http, who, None, idempotency_key, if_match), run)

    def respond_route(accept: bool) -> Callable[..., Response]:
        def respond(
            http: Request, who: Caller, transfer_id: str,
            if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
        ) -> Response:  # fmt: skip
            def run(tx: Transaction, version: int | None) -> StoredAnswer:
                transfer, new_version = tx.respond_to_transfer(
                    who.email, transfer_id, accept, version
                )
                return _ok(200, transfer, new_version)

            return write(write_request(http, who, None, idempotency_key, if_match), run)

        verb = "accept" if accept else "decline"
        respond.__name__ = f"{verb}_transfer"
        respond.__doc__ = f"The recipient {verb}s a pending transfer (recipient only)."
        return respond

    for verb in ("accept", "decline"):
        app.post(
            f"/v1/transfers/{{transfer_id}}/{verb}",
            response_model=Transfer,
            responses=_responses(_WRITE_ERRORS, 200, etag=True),
            tags=["transfers"],
        )(respond_route(verb == "accept"))

    @app.post(
        "/v1/sites/{site_id}/purchases",
        status_code=201,
        response_model=Purchase,
        responses=_responses(_WRITE_ERRORS, 201, etag=True),
        tags=["billing"],
    )
    def purchase(
        http: Request, who: Caller, site_id: str, body: PurchaseRequest,
        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    ) -> Response:  # fmt: skip
        """Buy a package (owner only): charges the owner, invoices the owner."""

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            bought, new_version = tx.purchase(who.email, site_id, body.package, version)
            return _ok(201, bought, new_version)

        return write(write_request(http, who, body, idempotency_key, if_match), run)

    @app.get(
        "/v1/sites/{site_id}/invoices",
        response_model=InvoiceList,
        responses=_responses((401, 403, 404, 422, 429, 503), 200, etag=False),
        tags=["billing"],
    )
    def invoices(who: Caller, site_id: str) -> InvoiceList:
        """The owner's invoices for the site (owner only)."""
        with store.transaction() as tx:
            found, _ = tx.invoices(who.email, site_id)
        return InvoiceList(items=found)

    @app.get("/sandbox/stats", response_model=Stats, tags=["sandbox"])
    def sandbox_stats() -> Stats:
        """Requests served so far, by route template and by status."""
        return stats.snapshot()


class SandboxMiddleware:
    """Counts every request, then injects latency, rate limiting, errors and drops."""

    def __init__(
        self, app: ASGIApp, *, faults: FaultSpec, stats: StatsCounter, routes: list[BaseRoute]
    ) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats
        self.routes = routes
        self.dice = Dice(faults)
        self.limiter = None if faults.rate_limit is None else RateLimiter(faults.rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = f"{scope['method']} {self._template(scope)}"
        status = await self._serve(scope, receive, send)
        self.stats.count(route, status)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> str:
        """Serve one request; returns the status for the counters."""
        if scope["path"] in UNFAULTED_PATHS:
            return await self._pass_through(scope, receive, send)
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return str(refusal.status_code)
        if self.dice.drop():
            await self._drop(scope, receive, send)
            return "dropped"
        return await self._pass_through(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        """A 429 above the rate limit, or an injected 503; None to go ahead."""
        if self.limiter is not None:
            wait = self.limiter.retry_after(_authorization(scope))
            if wait is not None:
                detail = f"More than {self.faults.rate_limit:g} requests per second; slow down."
                return problem_response(
                    429, "Too Many Requests", detail, {"Retry-After": str(wait)}
                )
        if self.dice.fail():
            detail = "The platform is temporarily unavailable (injected fault); retry later."
            return problem_response(503, "Service Unavailable", detail, {"Retry-After": "1"})
        return None

    async def _pass_through(self, scope: Scope, receive: Receive, send: Send) -> str:
        status = "000"

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)
        return status

    async def _drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Do the work, throw the answer away, and close the connection."""

        async def discard(_: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        drop = scope.get("extensions", {}).get(DROP_EXTENSION)
        if drop is not None:
            drop()
            return
        # Without the sandbox's protocol: promise a body and end the answer short of it.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"100")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"{", "more_body": True})

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return str(getattr(route, "path", scope["path"]))
        return "(no route)"


def _authorization(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()
    return "anonymous"
