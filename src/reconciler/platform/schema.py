"""The platform's wire schema: the one definition shared by the client and the sandbox.

Every body that crosses the wire is one of these models. E-mail addresses are
normalised to lower case on the way in, so both sides compare them as plain strings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from reconciler.model import (
    CURRENCY_PATTERN,
    AccountKind,
    BillingPeriod,
    Email,
    EndedTransfer,
    ObservedSite,
    Package,
    PackagePrice,
    PendingTransfer,
    Role,
    TransferEnd,
    TransferRecord,
    TransferStatus,
    constructed,
)

_WIRE_ATOM = r"[A-Za-z0-9!$&'*+=^_`{|}~-]"
_WIRE_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_WIRE_PATTERN = rf"^{_WIRE_ATOM}(\.?{_WIRE_ATOM}){{0,63}}@{_WIRE_LABEL}(\.{_WIRE_LABEL})+$"
"""E-mail addresses as the API accepts them (``normalise_email``), in their plain ASCII
form: before the @ the characters of an address but those that would change a URL path
(``/ \\ % ? #``), no dot first, last or twice in a row, at most 64 (the pattern alone
bounds a part with dots at 127: a regular expression without look-ahead, which data
generators need, cannot count both); a domain of two labels or more. Any case (the API
compares in lower case). The API also takes a domain in another script, by its IDNA
form (``bäckerei.example`` is ``xn--bckerei-5wa.example``), and spaces around."""

EMAIL_WIRE_SCHEMA = {"type": "string", "pattern": EMAIL_WIRE_PATTERN, "maxLength": 254}

RequestEmail = Annotated[Email, WithJsonSchema(EMAIL_WIRE_SCHEMA)]
"""An e-mail address a request sends (responses may carry any address the platform holds)."""

__all__ = [
    "EMAIL_WIRE_PATTERN",
    "Account",
    "AccountKind",
    "BillingContactRequest",
    "BillingPeriod",
    "CollaboratorRequest",
    "DryRunBatch",
    "DryRunResult",
    "DryRunResults",
    "DryRunWrite",
    "Invoice",
    "InvoiceList",
    "LastTransfer",
    "Package",
    "PackagePrice",
    "ProblemDetails",
    "Purchase",
    "PurchaseRequest",
    "Role",
    "Site",
    "SitePage",
    "Stats",
    "TokenScope",
    "Transfer",
    "TransferDirection",
    "TransferEnd",
    "TransferList",
    "TransferPage",
    "TransferRequest",
    "TransferStatus",
    "to_observed",
    "to_record",
]

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_DRY_RUN_BATCH = 500


class _Wire(BaseModel):
    """Base of every answer: immutable; unknown fields from a newer platform are ignored."""

    model_config = ConfigDict(frozen=True)


class _Request(BaseModel):
    """Base of every request body: a misspelt field is refused rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenScope(StrEnum):
    """What an API token may do (platform rule 11): ``read`` lists, reads and dry runs."""

    READ = "read"
    WRITE = "write"


class TransferDirection(StrEnum):
    """Which of the caller's transfers ``GET /v1/transfers`` lists."""

    SENT = "sent"
    RECEIVED = "received"


class Account(_Wire):
    """A platform account: an expert (agency) or a customer (client)."""

    email: Email
    kind: AccountKind


class Transfer(_Wire):
    """A handover of a site's ownership from ``from_owner`` to ``to``."""

    id: str
    site_id: str
    from_owner: Email = Field(description="The owner who started the transfer")
    to: Email
    stay_as_collaborator: bool
    status: TransferStatus
    created_at: datetime
    expires_at: datetime = Field(description="When a pending transfer expires (14 days)")
    ended_at: datetime | None = Field(
        default=None, description="When it was accepted, declined, cancelled or expired"
    )


class LastTransfer(_Wire):
    """The most recent transfer of a site that ended: how and when (platform rule 10)."""

    id: str
    to: Email
    stay_as_collaborator: bool
    status: TransferEnd
    created_at: datetime
    ended_at: datetime


class TransferList(_Wire):
    """``GET /v1/sites/{id}/transfers``: every transfer of the site, newest first."""

    items: list[Transfer]


class TransferPage(_Wire):
    """One page of ``GET /v1/transfers``, newest first; ``next_cursor`` None on the last."""

    items: list[Transfer]
    next_cursor: str | None = None


class Site(_Wire):
    """A site as the platform reports it; ``version`` changes with every change."""

    id: str
    name: str
    owner: Email
    billing_contact: Email
    package: Package
    package_paid_until: datetime | None = None
    package_price: PackagePrice | None = Field(
        default=None,
        description="What the package costs the owner each period; null for a free package",
    )
    package_renews_at: datetime | None = Field(
        default=None,
        description="When the paid package next renews, on the owner's card; null for free",
    )
    collaborators: dict[Email, Role] = Field(default_factory=dict)
    pending_transfer: Transfer | None = None
    last_transfer: LastTransfer | None = None
    version: int


class SitePage(_Wire):
    """One page of ``GET /v1/sites``; ``next_cursor`` is None on the last page."""

    items: list[Site]
    next_cursor: str | None = None


class CollaboratorRequest(_Request):
    role: Role


class BillingContactRequest(_Request):
    email: RequestEmail


class TransferRequest(_Request):
    to: RequestEmail
    stay_as_collaborator: StrictBool = False  # 0 and "yes" are not booleans


class PurchaseRequest(_Request):
    package: Package


class Purchase(_Wire):
    """A package bought for a site; always paid by, and invoiced to, the owner."""

    id: str
    site_id: str
    package: Package
    amount_cents: int
    currency: str = Field(pattern=CURRENCY_PATTERN, description="ISO 4217", examples=["EUR"])
    paid_by: Email
    invoice_id: str
    created_at: datetime


class Invoice(_Wire):
    id: str
    site_id: str
    billed_to: Email
    package: Package
    amount_cents: int
    currency: str = Field(pattern=CURRENCY_PATTERN, description="ISO 4217", examples=["EUR"])
    issued_at: datetime


class InvoiceList(_Wire):
    items: list[Invoice]


class ProblemDetails(_Wire):
    """An RFC 9457 problem: every error answer has this body."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class DryRunWrite(_Request):
    """One write of a batch of dry runs, as it would be sent on its own."""

    method: Literal["PUT", "POST", "DELETE"]
    path: str = Field(
        pattern=r"^/v1/[^?#]*$",
        max_length=2000,
        description="The write's path, percent-encoded as it would be sent, without a query",
        examples=["/v1/sites/acme-bakery/transfers"],
    )
    body: Any = Field(default=None, description="The write's JSON body; null for none")
    if_match: str | None = Field(
        default=None, max_length=1000, description='The If-Match it would send, e.g. "3"'
    )


class DryRunBatch(_Request):
    """``POST /v1/dry-runs``: up to 500 writes, each checked as ``?dry_run=true`` would."""

    writes: list[DryRunWrite] = Field(max_length=MAX_DRY_RUN_BATCH)


class DryRunResult(_Wire):
    """What one write of the batch answers as a dry run: its status, and its problem
    (None when it would be accepted)."""

    status: int
    problem: ProblemDetails | None = None


class DryRunResults(_Wire):
    """The batch's results, in the order of its writes."""

    results: list[DryRunResult]


class Stats(_Wire):
    """Request counters of the sandbox, by route template and by status."""

    total: int
    by_route: dict[str, int]
    by_status: dict[str, int]


_PENDING_FIELDS = set(PendingTransfer.model_fields)
_ENDED_FIELDS = set(EndedTransfer.model_fields)
_OBSERVED_FIELDS = set(ObservedSite.model_fields)
_RECORD_FIELDS = set(TransferRecord.model_fields)

_M = TypeVar("_M", bound=BaseModel)


def _checked(model: type[_M], fields: set[str], values: dict[str, Any]) -> _M:
    """``model.model_construct(fields, **values)`` for ``values`` the wire model has
    validated, naming every field in the model's order (see ``model.constructed``)."""
    return constructed(model, values, fields)


def to_observed(site: Site) -> ObservedSite:
    """The reconciler's view of a site, with its pending and its last ended transfer.

    Built without validating again: the wire model has checked every field already,
    and plans convert every site the expert can see. Each model is given every field,
    so all share one set of the fields set (a set of its own would cost each of 100,000
    sites half a kilobyte; a frozen model only reads it, ``model_copy`` copies it).
    """
    transfer = site.pending_transfer
    pending = None
    if transfer is not None and transfer.status is TransferStatus.PENDING:
        pending = _checked(
            PendingTransfer,
            _PENDING_FIELDS,
            {
                "id": transfer.id,
                "to": transfer.to,
                "stay_as_collaborator": transfer.stay_as_collaborator,
                "created_at": transfer.created_at,
                "expires_at": transfer.expires_at,
            },
        )
    last = site.last_transfer
    ended = None
    if last is not None:
        ended = _checked(
            EndedTransfer,
            _ENDED_FIELDS,
            {
                "id": last.id,
                "to": last.to,
                "stay_as_collaborator": last.stay_as_collaborator,
                "status": last.status,
                "created_at": last.created_at,
                "ended_at": last.ended_at,
            },
        )
    return _checked(
        ObservedSite,
        _OBSERVED_FIELDS,
        {
            "id": site.id,
            "name": site.name,
            "owner": site.owner,
            "billing_contact": site.billing_contact,
            "package": site.package,
            "package_paid_until": site.package_paid_until,
            "package_price": site.package_price,
            "package_renews_at": site.package_renews_at,
            "collaborators": site.collaborators,
            "pending_transfer": pending,
            "last_transfer": ended,
            "version": site.version,
            "package_known": True,
            "name_known": True,
            "unmapped_access": {},
        },
    )


def to_record(transfer: Transfer) -> TransferRecord:
    """The reconciler's view of one transfer from a listing."""
    return _checked(
        TransferRecord,
        _RECORD_FIELDS,
        {
            "id": transfer.id,
            "site_id": transfer.site_id,
            "from_owner": transfer.from_owner,
            "to": transfer.to,
            "stay_as_collaborator": transfer.stay_as_collaborator,
            "status": transfer.status,
            "created_at": transfer.created_at,
            "expires_at": transfer.expires_at,
            "ended_at": transfer.ended_at,
        },
    )
