"""The sandbox's routes (DESIGN.md section 6), each written once: :data:`ROUTES`.

A :class:`Route` says everything about one operation: its method and path, the models
of its path parameters, query and body, its answer and the problems it may answer, and
its handler. :mod:`reconciler.sandbox.api` reads a request by it, and
:mod:`reconciler.sandbox.openapi` describes it; nothing else names a route.

Handlers are thin: one store operation inside one transaction (writes through
:meth:`reconciler.sandbox.exchange.Write.run`), the result turned into an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from reconciler.platform.schema import (
    DEFAULT_PAGE_SIZE,
    EMAIL_WIRE_SCHEMA,
    MAX_PAGE_SIZE,
    Account,
    BillingContactRequest,
    CollaboratorRequest,
    DryRunBatch,
    DryRunResults,
    InvoiceList,
    Purchase,
    PurchaseRequest,
    Site,
    SitePage,
    Stats,
    Transfer,
    TransferDirection,
    TransferList,
    TransferPage,
    TransferRequest,
)
from reconciler.sandbox.exchange import (
    JSON_MEDIA_TYPE,
    Answer,
    StatsCounter,
    Write,
    json_answer,
    ok,
    path_email,
    stored,
)
from reconciler.sandbox.store import (
    CURSOR_PATTERN,
    TRANSFER_CURSOR_PATTERN,
    Grant,
    SandboxStore,
    StoredAnswer,
    Transaction,
)

M = TypeVar("M", bound=BaseModel)

READ_PROBLEMS = (401, 404, 422, 429, 503)
WRITE_PROBLEMS = (401, 403, 404, 409, 412, 422, 429, 503)
OWNER_READ_PROBLEMS = (401, 403, 404, 422, 429, 503)


# -- what a route reads: path parameters, queries --


class _Parameters(BaseModel):
    model_config = ConfigDict(frozen=True)


class SitePath(_Parameters):
    site_id: Annotated[
        str,
        Field(
            description="The site's id",
            examples=["acme-bakery", "bistro-verde", "pixel-studio"],  # sandbox.seed.yaml's
        ),
    ]


class CollaboratorPath(SitePath):
    email: Annotated[
        str,
        Field(
            description="The collaborator's e-mail address (compared in lower case)",
            json_schema_extra={k: v for k, v in EMAIL_WIRE_SCHEMA.items() if k != "type"},
            examples=["tom@freelance.example"],
        ),
    ]


class SiteTransferPath(SitePath):
    transfer_id: Annotated[str, Field(description="The transfer's id", examples=["tr_0"])]


class TransferPath(_Parameters):
    transfer_id: Annotated[str, Field(description="The transfer's id", examples=["tr_0"])]


class WriteQuery(_Parameters):
    """Every write's query: ``?dry_run=true`` checks and answers, changing nothing."""

    dry_run: Annotated[
        bool,
        Field(
            description="Check everything and answer as the write would, but change nothing "
            "(no charge, no idempotency key kept); a read token is enough",
            examples=[False],
        ),
    ] = False


class SitesQuery(_Parameters):
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[
        str | None,
        Field(
            max_length=1000,
            json_schema_extra={"pattern": CURSOR_PATTERN},  # the store explains a bad one
            description="next_cursor of the previous page; any cursor of this form is a place "
            "in the order of ids",
        ),
    ] = None


class TransfersQuery(_Parameters):
    direction: TransferDirection
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[
        str | None,
        Field(
            max_length=1000,
            json_schema_extra={"pattern": TRANSFER_CURSOR_PATTERN},  # as above
            description="next_cursor of the previous page; any cursor of this form is a place "
            "in the order",
        ),
    ] = None


# -- what a handler is given --


DryRunner = Callable[[DryRunBatch, str | None], DryRunResults]
"""Runs a batch of dry runs with the batch's Authorization header (see api.py)."""


@dataclass(frozen=True)
class Call:
    """One request, parsed and checked by its route: what its handler works with."""

    store: SandboxStore
    stats: StatsCounter
    grant: Grant | None
    path: BaseModel | None
    query: BaseModel | None
    body: BaseModel | None
    write: Write | None
    dry_runs: DryRunner
    authorization: str | None = None

    @property
    def caller(self) -> Account:
        assert self.grant is not None, "the route needs a token"
        return self.grant.account

    def path_as(self, model: type[M]) -> M:
        assert isinstance(self.path, model)
        return self.path

    def query_as(self, model: type[M]) -> M:
        assert isinstance(self.query, model)
        return self.query

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    def run(self, operation: Callable[[Transaction, int | None], StoredAnswer]) -> Answer:
        """A write route's work, through the one write helper."""
        assert self.write is not None, "only a write route runs a write"
        return stored(self.write.run(self.body, operation))


Handler = Callable[[Call], Answer]


# -- the handlers --


def me(call: Call) -> Answer:
    """The caller's account."""
    return json_answer(call.caller)


def list_sites(call: Call) -> Answer:
    """Sites the caller owns or collaborates on, sorted by id, one page at a time."""
    query = call.query_as(SitesQuery)
    with call.store.transaction() as tx:
        page = tx.list_sites(call.caller.email, query.limit, query.cursor)
    return json_answer(page)


def get_site(call: Call) -> Answer:
    """One site with its pending transfer; ``ETag`` is its version."""
    with call.store.transaction() as tx:
        site = tx.visible_site(call.caller.email, call.path_as(SitePath).site_id)
    return stored(ok(200, site, site.version))


def put_collaborator(call: Call) -> Answer:
    """Add a collaborator or change their role (owner or admin collaborator)."""
    where, role = call.path_as(CollaboratorPath), call.body_as(CollaboratorRequest).role

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        email = path_email(where.email)
        site = tx.put_collaborator(call.caller.email, where.site_id, email, role, version)
        return ok(200, site, site.version)

    return call.run(run)


def delete_collaborator(call: Call) -> Answer:
    """Remove a collaborator's access (owner or admin collaborator)."""
    where = call.path_as(CollaboratorPath)

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        email = path_email(where.email)
        site = tx.delete_collaborator(call.caller.email, where.site_id, email, version)
        return ok(204, None, site.version)

    return call.run(run)


def set_billing_contact(call: Call) -> Answer:
    """Set the address that receives invoices and renewal notices (owner only)."""
    site_id, email = call.path_as(SitePath).site_id, call.body_as(BillingContactRequest).email

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        site = tx.set_billing_contact(call.caller.email, site_id, email, version)
        return ok(200, site, site.version)

    return call.run(run)


def start_transfer(call: Call) -> Answer:
    """Start a handover to an existing account (owner only); it stays pending."""
    site_id, body = call.path_as(SitePath).site_id, call.body_as(TransferRequest)

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        transfer, new_version = tx.start_transfer(
            call.caller.email, site_id, body.to, body.stay_as_collaborator, version
        )
        return ok(201, transfer, new_version)

    return call.run(run)


def cancel_transfer(call: Call) -> Answer:
    """Cancel a pending transfer (owner only)."""
    where = call.path_as(SiteTransferPath)

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        caller = call.caller.email
        return ok(204, None, tx.cancel_transfer(caller, where.site_id, where.transfer_id, version))

    return call.run(run)


def _respond(accept: bool) -> Handler:
    def respond(call: Call) -> Answer:
        transfer_id = call.path_as(TransferPath).transfer_id

        def run(tx: Transaction, version: int | None) -> StoredAnswer:
            caller = call.caller.email
            transfer, new_version = tx.respond_to_transfer(caller, transfer_id, accept, version)
            return ok(200, transfer, new_version)

        return call.run(run)

    verb = "accept" if accept else "decline"
    respond.__name__ = f"{verb}_transfer"
    respond.__doc__ = f"The recipient {verb}s a pending transfer (recipient only)."
    return respond


def purchase(call: Call) -> Answer:
    """Buy a package (owner only): charges the owner, invoices the owner."""
    site_id, package = call.path_as(SitePath).site_id, call.body_as(PurchaseRequest).package

    def run(tx: Transaction, version: int | None) -> StoredAnswer:
        bought, new_version = tx.purchase(call.caller.email, site_id, package, version)
        return ok(201, bought, new_version)

    return call.run(run)


def invoices(call: Call) -> Answer:
    """The owner's invoices for the site (owner only)."""
    with call.store.transaction() as tx:
        found, _ = tx.invoices(call.caller.email, call.path_as(SitePath).site_id)
    return json_answer(InvoiceList(items=found))


def site_transfers(call: Call) -> Answer:
    """Every transfer of the site, newest first, whatever its status (owner and
    collaborators only: the recipient of a pending transfer sees it in its own list)."""
    with call.store.transaction() as tx:
        found = tx.site_transfers(call.caller.email, call.path_as(SitePath).site_id)
    return json_answer(TransferList(items=found))


def list_transfers(call: Call) -> Answer:
    """The transfers the caller sent (even of sites it no longer sees) or received,
    newest first, one page at a time."""
    query = call.query_as(TransfersQuery)
    with call.store.transaction() as tx:
        page = tx.transfers_page(call.caller.email, query.direction, query.limit, query.cursor)
    return json_answer(page)


def dry_runs(call: Call) -> Answer:
    """Up to 500 writes checked at once, each answered exactly as that write with
    ``?dry_run=true`` would be (status and problem), in the same order; a read token is
    enough, and nothing changes."""
    return json_answer(call.dry_runs(call.body_as(DryRunBatch), call.authorization))


def sandbox_stats(call: Call) -> Answer:
    """Requests served so far, by route template and by status (sandbox only)."""
    return json_answer(call.stats.snapshot())


def openapi_document(call: Call) -> Answer:
    """This API's OpenAPI document, made from :data:`ROUTES` on first use."""
    from reconciler.sandbox.openapi import document_bytes  # only this rare request needs it

    return Answer(200, document_bytes(), JSON_MEDIA_TYPE)


# -- the table --


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: how an answer's values fill the parameters of a next operation."""

    name: str
    operation: str  # the operationId (a handler's name)
    parameters: Mapping[str, str]  # runtime expressions, e.g. "$response.body#/id"
    description: str


@dataclass(frozen=True)
class Route:
    """One operation of the API, as the server reads it and the document describes it."""

    method: str
    template: str
    handler: Handler
    tag: str
    answer: type[BaseModel] | None
    ok: int = 200
    problems: tuple[int, ...] = READ_PROBLEMS
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    write: bool = False
    """If-Match, Idempotency-Key and ``?dry_run=true``; the site's version as ETag."""
    etag: bool = False
    token: bool = True
    faulted: bool = True
    """Whether injected faults (latency, 429, 503, drops) reach it."""
    documented: bool = True
    example: Mapping[str, Any] | None = None
    """A request body that succeeds on the sandbox's example seed (sandbox.seed.yaml)."""
    links: tuple[Link, ...] = ()

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def summary(self) -> str:
        return (self.handler.__doc__ or "").split("\n\n")[0].replace("\n", " ")


def _write(
    method: str,
    template: str,
    handler: Handler,
    tag: str,
    answer: type[BaseModel] | None,
    path: type[BaseModel],
    *,
    ok: int = 200,
    body: type[BaseModel] | None = None,
    example: Mapping[str, Any] | None = None,
    links: tuple[Link, ...] = (),
) -> Route:
    return Route(
        method, template, handler, tag, answer, ok, WRITE_PROBLEMS, path, WriteQuery, body,
        write=True, etag=True, example=example, links=links,
    )  # fmt: skip


COLLABORATOR = "/v1/sites/{site_id}/collaborators/{email}"
RECIPIENT = "anna@acme-bakery.example"  # a client with an account in sandbox.seed.yaml
_STARTED = "$response.body#/id"
TRANSFER_LINKS = (
    Link("accept", "accept_transfer", {"transfer_id": _STARTED},
         "The recipient accepts the transfer just started"),
    Link("decline", "decline_transfer", {"transfer_id": _STARTED},
         "The recipient declines the transfer just started"),
    Link("cancel", "cancel_transfer", {"site_id": "$request.path.site_id", "transfer_id": _STARTED},
         "The owner cancels the transfer just started"),
)  # fmt: skip

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/me", me, "accounts", Account),
    Route("GET", "/v1/sites", list_sites, "sites", SitePage, query=SitesQuery),
    Route("GET", "/v1/sites/{site_id}", get_site, "sites", Site, path=SitePath, etag=True),
    _write("PUT", COLLABORATOR, put_collaborator, "collaborators", Site, CollaboratorPath,
           body=CollaboratorRequest, example={"role": "editor"}),
    _write("DELETE", COLLABORATOR, delete_collaborator, "collaborators", None, CollaboratorPath,
           ok=204),
    _write("PUT", "/v1/sites/{site_id}/billing-contact", set_billing_contact, "billing", Site,
           SitePath, body=BillingContactRequest, example={"email": "studio@pixel.example"}),
    _write("POST", "/v1/sites/{site_id}/purchases", purchase, "billing", Purchase, SitePath,
           ok=201, body=PurchaseRequest, example={"package": "premium"}),
    Route("GET", "/v1/sites/{site_id}/invoices", invoices, "billing", InvoiceList,
          problems=OWNER_READ_PROBLEMS, path=SitePath),
    _write("POST", "/v1/sites/{site_id}/transfers", start_transfer, "transfers", Transfer,
           SitePath, ok=201, body=TransferRequest, example={"to": RECIPIENT},
           links=TRANSFER_LINKS),
    _write("DELETE", "/v1/sites/{site_id}/transfers/{transfer_id}", cancel_transfer,
           "transfers", None, SiteTransferPath, ok=204),
    _write("POST", "/v1/transfers/{transfer_id}/accept", _respond(accept=True), "transfers",
           Transfer, TransferPath),
    _write("POST", "/v1/transfers/{transfer_id}/decline", _respond(accept=False), "transfers",
           Transfer, TransferPath),
    Route("GET", "/v1/sites/{site_id}/transfers", site_transfers, "transfers", TransferList,
          path=SitePath),
    Route("GET", "/v1/transfers", list_transfers, "transfers", TransferPage,
          query=TransfersQuery),
    Route("POST", "/v1/dry-runs", dry_runs, "dry runs", DryRunResults, body=DryRunBatch,
          example={"writes": [{"method": "POST", "path": "/v1/sites/acme-bakery/transfers",
                               "body": {"to": RECIPIENT}}]}),
    Route("GET", "/sandbox/stats", sandbox_stats, "sandbox", Stats, problems=(), token=False,
          faulted=False),
    Route("GET", "/openapi.json", openapi_document, "sandbox", None, problems=(), token=False,
          faulted=False, documented=False),
)  # fmt: skip
"""Every route of the sandbox, in the order of the OpenAPI document."""
