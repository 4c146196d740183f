"""The sandbox's API on the standard library's HTTP server: the embedded sandbox.

``reconciler plan`` with no ``platform:`` block starts the sandbox in a child process.
Served by FastAPI and uvicorn, that child spent 0.4 s importing them before its first
answer, longer than the rest of a plan of a few sites. This server answers the same
routes with the same store (the platform's rules), the same wire schema and the same
write helper (:mod:`reconciler.sandbox.exchange`: Idempotency-Key replay, If-Match,
refusals as problem answers), and imports nothing beyond them and ``http.server``.

What FastAPI adds on top (the OpenAPI document, fault injection) stays with
``reconciler sandbox serve``. The sandbox tests run their HTTP and rules tests against
both servers, so that the two cannot drift apart.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, Field, ValidationError

from reconciler.platform.schema import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Account,
    BillingContactRequest,
    CollaboratorRequest,
    InvoiceList,
    PurchaseRequest,
    TransferDirection,
    TransferList,
    TransferRequest,
)
from reconciler.sandbox.exchange import (
    PROBLEM_MEDIA_TYPE,
    StatsCounter,
    Write,
    auth_challenge,
    bearer_token,
    grant_of,
    ok,
    path_email,
    problem_body,
    title_of,
)
from reconciler.sandbox.store import Clock, Refusal, SandboxStore, StoredAnswer, Transaction

logger = logging.getLogger("reconciler.sandbox")

JSON = "application/json"
M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 1_000_000
MAX_KEY_LENGTH = 255  # Idempotency-Key, as the app declares it
SHUTDOWN_POLL_SECONDS = 0.01  # how soon a stopping server notices (http.server's: 0.5)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Invalid(Exception):
    """The request does not parse: FastAPI's 422, with the same ``where: what`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Call:
    """One request, parsed and checked as FastAPI would before calling the route."""

    store: SandboxStore
    caller: Account
    params: Mapping[str, str]
    write: Write
    query: BaseModel | None = None
    body: BaseModel | None = None

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    def query_as(self, model: type[M]) -> M:
        assert isinstance(self.query, model)
        return self.query


def _errors(exc: ValidationError, where: str) -> list[str]:
    return [
        ".".join([where, *(str(part) for part in error["loc"])]) + f": {error['msg']}"
        for error in exc.errors()
    ]


def _query_values(query: str) -> dict[str, str]:
    """The query's parameters, the last value of a repeated one, as starlette reads them."""
    return dict(parse_qsl(query, keep_blank_values=True))


def _decoded_body(headers: Message, body: bytes) -> object:
    """The body as FastAPI hands it to validation: JSON for a JSON media type, else bytes.

    A body that is not JSON is refused here, before the token is even looked at.
    """
    if not body:
        return None
    media = Message()
    media["content-type"] = headers.get("Content-Type", "")
    subtype = media.get_content_subtype()
    is_json = media.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
    if not headers.get("Content-Type") or not is_json:
        return body
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise Invalid([f"body.{exc.pos}: JSON decode error"]) from None
    except ValueError:  # not UTF-8: FastAPI's 400, which the app answers as a 422
        detail = "The request body cannot be read as JSON: There was an error parsing the body"
        raise Refusal(422, title_of(422), detail) from None


def _stored(answer: StoredAnswer) -> Answer:
    headers = {} if answer.etag is None else {"ETag": f'"{answer.etag}"'}
    if answer.status == 204:
        return Answer(204, headers=headers)
    media_type = PROBLEM_MEDIA_TYPE if answer.status >= 400 else JSON
    return Answer(answer.status, (answer.body or "").encode(), media_type, headers)


def _json(value: BaseModel) -> Answer:
    return Answer(200, value.model_dump_json().encode(), JSON)


def _problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, *, title: str = ""
) -> Answer:
    body = problem_body(status, title or title_of(status), detail).encode()
    return Answer(status, body, PROBLEM_MEDIA_TYPE, headers or {})


# -- the routes: the same paths, parameters and store calls as sandbox/app.py --


class _WriteQuery(BaseModel):
    """Every write's query: ``?dry_run=true`` checks and answers, changing nothing."""

    dry_run: bool = False


class _SitesQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[str | None, Field(max_length=1000)] = None


class _TransfersQuery(BaseModel):
    direction: TransferDirection
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[str | None, Field(max_length=1000)] = None


def me(call: Call) -> Answer:
    return _json(call.caller)


def list_sites(call: Call) -> Answer:
    query = call.query_as(_SitesQuery)
    with call.store.transaction() as tx:
        page = tx.list_sites(call.caller.email, query.limit, query.cursor)
    return _json(page)


def get_site(call: Call) -> Answer:
    with call.store.transaction() as tx:
        site = tx.visible_site(call.caller.email, call.params["site_id"])
    return _stored(ok(200, site, site.version))


def put_collaborator(call: Call) -> Answer:
    body = call.body_as(CollaboratorRequest)
    site_id, email = call.params["site_id"], call.params["email"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        who = call.caller.email
        site = tx.put_collaborator(who, site_id, path_email(email), body.role, version)
        return ok(200, site, site.version)

    return _stored(call.write.run(body, run))


def delete_collaborator(call: Call) -> Answer:
    site_id, email = call.params["site_id"], call.params["email"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        site = tx.delete_collaborator(call.caller.email, site_id, path_email(email), version)
        return ok(204, None, site.version)

    return _stored(call.write.run(None, run))


def set_billing_contact(call: Call) -> Answer:
    body = call.body_as(BillingContactRequest)
    site_id = call.params["site_id"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        site = tx.set_billing_contact(call.caller.email, site_id, body.email, version)
        return ok(200, site, site.version)

    return _stored(call.write.run(body, run))


def start_transfer(call: Call) -> Answer:
    body = call.body_as(TransferRequest)
    site_id = call.params["site_id"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        transfer, new_version = tx.start_transfer(
            call.caller.email, site_id, body.to, body.stay_as_collaborator, version
        )
        return ok(201, transfer, new_version)

    return _stored(call.write.run(body, run))


def cancel_transfer(call: Call) -> Answer:
    site_id, transfer_id = call.params["site_id"], call.params["transfer_id"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        return ok(204, None, tx.cancel_transfer(call.caller.email, site_id, transfer_id, version))

    return _stored(call.write.run(None, run))


def respond_route(accept: bool) -> Callable[[Call], Answer]:
    def respond(call: Call) -> Answer:
        transfer_id = call.params["transfer_id"]

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            transfer, new_version = tx.respond_to_transfer(
                call.caller.email, transfer_id, accept, version
            )
            return ok(200, transfer, new_version)

        return _stored(call.write.run(None, run))

    return respond


def purchase(call: Call) -> Answer:
    body = call.body_as(PurchaseRequest)
    site_id = call.params["site_id"]

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        bought, new_version = tx.purchase(call.caller.email, site_id, body.package, version)
        return ok(201, bought, new_version)

    return _stored(call.write.run(body, run))


def site_transfers(call: Call) -> Answer:
    with call.store.transaction() as tx:
        found = tx.site_transfers(call.caller.email, call.params["site_id"])
    return _json(TransferList(items=found))


def list_transfers(call: Call) -> Answer:
    query = call.query_as(_TransfersQuery)
    with call.store.transaction() as tx:
        page = tx.transfers_page(call.caller.email, query.direction, query.limit, query.cursor)
    return _json(page)


def invoices(call: Call) -> Answer:
    with call.store.transaction() as tx:
        found, _ = tx.invoices(call.caller.email, call.params["site_id"])
    return _json(InvoiceList(items=found))


@dataclass(frozen=True)
class Route:
    """A route as FastAPI declares it: what it reads, and whether it needs a caller."""

    method: str
    template: str
    handler: Callable[[Call], Answer]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None

    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


COLLABORATOR = "/v1/sites/{site_id}/collaborators/{email}"

ROUTES = (
    Route("GET", "/v1/me", me),
    Route("GET", "/v1/sites", list_sites, query=_SitesQuery),
    Route("GET", "/v1/sites/{site_id}", get_site),
    Route("PUT", COLLABORATOR, put_collaborator, body=CollaboratorRequest),
    Route("DELETE", COLLABORATOR, delete_collaborator),
    Route("PUT", "/v1/sites/{site_id}/billing-contact", set_billing_contact, BillingContactRequest),
    Route("POST", "/v1/sites/{site_id}/transfers", start_transfer, body=TransferRequest),
    Route("DELETE", "/v1/sites/{site_id}/transfers/{transfer_id}", cancel_transfer),
    Route("POST", "/v1/transfers/{transfer_id}/accept", respond_route(accept=True)),
    Route("POST", "/v1/transfers/{transfer_id}/decline", respond_route(accept=False)),
    Route("GET", "/v1/sites/{site_id}/transfers", site_transfers),
    Route("GET", "/v1/transfers", list_transfers, query=_TransfersQuery),
    Route("POST", "/v1/sites/{site_id}/purchases", purchase, body=PurchaseRequest),
    Route("GET", "/v1/sites/{site_id}/invoices", invoices),
)
"""Every route of the app that needs a caller; /sandbox/stats and /openapi.json below."""


class PlainApi:
    """Routes a request to its handler and turns every refusal into a problem answer."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.stats = StatsCounter()
        self._openapi: bytes | None = None
        self._routes = [(route, route.pattern()) for route in ROUTES]

    def answer(self, method: str, target: str, headers: Message, body: bytes) -> tuple[str, Answer]:
        """The route template the request matched (for the counters) and its answer."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        if method == "GET" and path == "/sandbox/stats":
            return path, _json(self.stats.snapshot())
        if method == "GET" and path == "/openapi.json":
            return path, Answer(200, self._openapi_document(), JSON)
        allowed: list[Route] = []
        for route, pattern in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if method == route.method:
                request = _Request(method, path, match.groupdict(), parts.query, headers, body)
                return route.template, self._run(route, request)
            allowed.append(route)
        if allowed:  # the Allow header names every method of the path
            detail = f"{method} is not allowed on {path}."
            allow = {"Allow": ", ".join(sorted({r.method for r in allowed}))}
            return allowed[0].template, _problem(405, detail, allow)
        detail = f"There is no route {path}; /openapi.json lists the routes."
        return "(no route)", _problem(404, detail)

    def _run(self, route: Route, request: _Request) -> Answer:
        try:
            return route.handler(self._call(route, request))
        except Refusal as problem:
            headers = auth_challenge(problem.status)
            return _problem(problem.status, problem.detail, headers, title=problem.title)
        except Invalid as invalid:
            return _problem(422, "; ".join(invalid.errors), title="Unprocessable Content")
        except Exception as exc:  # a bug or a broken database: a problem, on its route
            logger.exception("%s %s failed", request.method, request.path)
            return _problem(500, f"The sandbox failed ({type(exc).__name__}); see its log.")

    def _call(self, route: Route, request: _Request) -> Call:
        """FastAPI's order: decode the body, find the caller, then check every parameter."""
        headers = request.headers
        data = _decoded_body(headers, request.body) if route.body is not None else None
        grant = grant_of(self.store, bearer_token(headers.get("Authorization")))
        errors: list[str] = []
        key = headers.get("Idempotency-Key")
        if route.method != "GET" and key is not None and len(key) > MAX_KEY_LENGTH:
            errors.append(
                f"header.Idempotency-Key: String should have at most {MAX_KEY_LENGTH} characters"
            )
        query = body = None
        query_model = route.query if route.method == "GET" else _WriteQuery
        if query_model is not None:
            try:
                query = query_model.model_validate(
                    dict(parse_qsl(request.query, keep_blank_values=True))
                )
            except ValidationError as exc:
                errors += _errors(exc, "query")
        if route.body is not None:
            try:
                if data is None:
                    errors.append("body: Field required")
                else:
                    body = route.body.model_validate(data, from_attributes=True)  # as FastAPI
            except ValidationError as exc:
                errors += _errors(exc, "body")
        if errors:
            raise Invalid(errors)
        dry_run = isinstance(query, _WriteQuery) and query.dry_run
        write = Write(
            self.store, grant, request.method, request.path, key, headers.get("If-Match"),
            dry_run,
        )  # fmt: skip
        return Call(self.store, grant.account, request.params, write, query, body)

    def _openapi_document(self) -> bytes:
        """The FastAPI app's own document, imported only for this rare request."""
        if self._openapi is None:
            from reconciler.sandbox.app import create_app

            document = create_app(self.store).openapi()
            self._openapi = json.dumps(document, separators=(",", ":")).encode()
        return self._openapi


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    params: Mapping[str, str]
    query: str
    headers: Message
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections
    server_version = "reconciler-sandbox"
    sys_version = ""
    disable_nagle_algorithm = True
    server: PlainServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES or "chunked" in self.headers.get("Transfer-Encoding", ""):
            self.close_connection = True
            self._send(_problem(413, "Send a JSON body of at most 1 MB, with Content-Length."))
            return
        body = self.rfile.read(length) if length else b""
        api = self.server.api
        try:
            route, answer = api.answer(self.command, self.path, self.headers, body)
        except Exception:  # a bug: say so, as uvicorn would, and keep serving
            logger.exception("%s %s failed", self.command, self.path)
            route, answer = "(error)", _problem(500, "The sandbox failed; see its log.")
        api.stats.count(f"{self.command} {route}", str(answer.status))
        self._send(answer)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status != 204:
            if answer.media_type is not None:
                self.send_header("Content-Type", answer.media_type)
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD" and answer.status != 204:
            self.wfile.write(answer.body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """``Date`` by the platform's clock, which ``sandbox clock advance`` moves."""
        return email.utils.format_datetime(self.server.api.store.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox: " + format, *args)


class PlainServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # apply opens many connections at once; 5 would drop some

    def __init__(self, api: PlainApi, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, _Handler)
        self.api = api

    @classmethod
    def on_socket(cls, api: PlainApi, sock: socket.socket) -> PlainServer:
        """A server on a socket that is already bound and listening."""
        server = cls.__new__(cls)
        ThreadingHTTPServer.__init__(server, sock.getsockname(), _Handler, False)
        server.socket.close()
        server.socket = sock
        server.server_address = sock.getsockname()
        server.api = api
        return server


class PlainSandbox:
    """The plain server on 127.0.0.1 in a background thread: the embedded sandbox of a
    small repository, and the tests' second front.

    The same interface as :class:`reconciler.sandbox.server.EmbeddedSandbox`.
    """

    def __init__(self, db_path: Path, *, clock: Clock | None = None) -> None:
        self.db_path = Path(db_path)
        self.store = SandboxStore(self.db_path, clock=clock)
        self._server = PlainServer(PlainApi(self.store))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name="reconciler-sandbox",
            daemon=True,
        )
        self.url = ""

    def start(self) -> PlainSandbox:
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=15)
        self.store.close()

    def __enter__(self) -> PlainSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_inherited_socket(fd: int) -> None:
    """The embedded sandbox's child process: serve on a listening socket inherited from
    the parent, the database whose path comes as the first line of standard input (in
    hexadecimal), until the parent closes our standard input or goes away.

    The parent starts us before its database exists (see operations/sandbox_child.py),
    so we import while it creates and seeds it; an input that ends first means the
    parent needed no sandbox after all.
    """
    sock = socket.socket(fileno=fd)
    line = sys.stdin.buffer.readline()
    if not line.endswith(b"\n"):
        return
    with SandboxStore(Path(os.fsdecode(bytes.fromhex(line.decode())))) as store:
        server = PlainServer.on_socket(PlainApi(store), sock)

        def stop_when_parent_leaves() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
            # The parent has had every answer it waited for, and each write was its own
            # committed transaction: nothing is lost by not waiting for open connections.
            os._exit(0)

        threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
        server.serve_forever()


if __name__ == "__main__":  # python -m reconciler.sandbox.plain FD, then the database
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    serve_inherited_socket(int(sys.argv[1]))
