"""The desired and the observed state of a site: pure, immutable values.

The desired state comes from the site files (see ``loader``); the observed state from
the platform (see ``platform.client``). ``diff`` compares the two. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from reconciler.addresses import normalise_email as normalise_email  # the one validator

SITE_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
EXPERT_KEYWORD = "expert"


class Role(StrEnum):
    """Access a collaborator has on a site; ordered from least to most."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


class Package(StrEnum):
    FREE = "free"
    PREMIUM = "premium"


COLLABORATOR_CAP = {Package.FREE: 2, Package.PREMIUM: 10}
"""How many collaborators a site's package allows (platform rule 9)."""

CURRENCY_PATTERN = r"^[A-Z]{3}$"
"""An ISO 4217 currency code (``EUR``, ``USD``)."""


class BillingPeriod(StrEnum):
    """How often a paid package is charged (and renews)."""

    MONTH = "month"
    YEAR = "year"


class PackagePrice(BaseModel):
    """What a site's paid package costs the owner each period (DESIGN.md section 6)."""

    model_config = ConfigDict(frozen=True)

    amount_cents: int = Field(ge=0, description="In the currency's minor unit (cents)")
    currency: str = Field(pattern=CURRENCY_PATTERN, description="ISO 4217", examples=["EUR"])
    period: BillingPeriod

    @property
    def per_year_cents(self) -> int:
        """What a year of it costs: twelve months of a monthly price."""
        return self.amount_cents * (12 if self.period is BillingPeriod.MONTH else 1)


class AccountKind(StrEnum):
    EXPERT = "expert"
    CUSTOMER = "customer"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]


Email = Annotated[str, AfterValidator(normalise_email)]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was written: 1-based line and column in a file.

    A plain dataclass, not a model: the loader makes one for every key and value.
    """

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class DesiredSite(BaseModel):
    """One site as a site file declares it, with handles and ``expert`` resolved.

    ``None`` means "not managed": the platform's value is left alone. Frozen; the
    mappings are typed read-only (``Mapping``) and never mutated.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None = None
    owner: Email
    billing_contact: Email | None = None
    collaborators: Mapping[Email, Role] | None = None
    package: Package | None = None
    ask_again_after: str | None = Field(
        default=None,
        description="The id of a declined or expired transfer after which the handover "
        "is asked for again (handovers have a memory, DESIGN.md section 5)",
    )
    source: Location | None = Field(default=None, exclude=True)
    locations: Mapping[str, Location] = Field(default_factory=dict, exclude=True)
    departed: Mapping[Email, date] = Field(
        default_factory=dict,
        exclude=True,
        description="People who left (people.yaml `left:`): dropped wherever they have "
        "access, whatever the file lists",
    )

    @property
    def effective_billing_contact(self) -> str:
        return self.billing_contact or self.owner

    def location_of(self, key: str) -> Location | None:
        """Where ``key`` (e.g. ``owner`` or ``collaborators.tom``) was written."""
        return self.locations.get(key) or self.source


_EVERY_SITE_FIELD = set(DesiredSite.model_fields)
"""The fields a trusted site is constructed with: all of them. One set shared by every
site (a frozen model only reads it; ``model_copy`` copies it): a set of its own would
cost each of 100,000 sites half a kilobyte."""
_set = object.__setattr__  # past a frozen model's own __setattr__
_M = TypeVar("_M", bound=BaseModel)


def constructed(model: type[_M], values: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    """What ``model.model_construct(fields_set, **values)`` makes when ``values`` names
    every field of ``model``, in its order, without that method's loop over the fields,
    their aliases and defaults (it looks up each default it is not given:
    ``inspect.signature`` of a default factory, each time). Nothing is validated: for
    values checked already (a site file's, a validated wire model's, the sandbox's own
    rows) and models without extra or private attributes or ``model_post_init``.

    It sets pydantic's own instance attributes; tests compare what it makes with
    ``model_construct`` for every model it makes (tests/desired/test_fast_paths.py,
    tests/platform/test_schema_views.py, tests/sandbox/test_sandbox_listing_index.py),
    so a pydantic that changes them fails there first. ``fields_set``: every field by
    default.
    """
    made = model.__new__(model)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


def trusted_site(fields: dict[str, Any]) -> DesiredSite:
    """A desired site of checked values: ``fields`` holds every field, in their order
    (see :func:`constructed`); validate makes one for each of thousands of site files."""
    return constructed(DesiredSite, fields, _EVERY_SITE_FIELD)


class TransferStatus(StrEnum):
    """Where a transfer stands: pending, or one of the four ways it ends (rule 10)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class TransferEnd(StrEnum):
    """How a transfer ended: exactly one of these (platform rule 10)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PendingTransfer(BaseModel):
    """A site's pending transfer; it expires at ``expires_at`` (platform rule 4)."""

    model_config = ConfigDict(frozen=True)

    id: str
    to: Email
    stay_as_collaborator: bool
    created_at: datetime
    expires_at: datetime


class EndedTransfer(BaseModel):
    """A site's most recent transfer that ended, and how and when it did."""

    model_config = ConfigDict(frozen=True)

    id: str
    to: Email
    stay_as_collaborator: bool
    status: TransferEnd
    created_at: datetime
    ended_at: datetime


class TransferRecord(BaseModel):
    """One transfer as the platform remembers it, of a site the caller may no longer see.

    From the listing of the transfers an account sent or received; ``ended_at`` is None
    while the transfer is pending.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    site_id: str
    from_owner: Email
    to: Email
    stay_as_collaborator: bool
    status: TransferStatus
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class ObservedSite(BaseModel):
    """One site as the platform reports it to the expert."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    owner: Email
    billing_contact: Email
    package: Package
    package_paid_until: datetime | None = None
    package_price: PackagePrice | None = None
    """What the package costs the owner; None for a free one (or a platform that does
    not say)."""
    package_renews_at: datetime | None = None
    """When the paid package next renews, on the owner's card; None for a free one."""
    collaborators: Mapping[Email, Role]
    pending_transfer: PendingTransfer | None = None
    last_transfer: EndedTransfer | None = None
    version: int
    package_known: bool = Field(
        default=True,
        description="False when the platform's plan of the site maps to no package "
        "(``package`` is then a placeholder the plan does not compare)",
    )
    name_known: bool = Field(
        default=True,
        description="False when the platform has no display name of its own (``name`` is "
        "then its id or domain, which import does not write over a file's name)",
    )
    unmapped_access: Mapping[Email, str] = Field(
        default_factory=dict,
        description="Access that maps to no role (a permission set containing no role's "
        "set), as the platform names it: reported and left alone",
    )

    def fingerprint_data(self) -> list[Any]:
        """A plain, ordered view used to fingerprint the observed state.

        Built by hand rather than with ``model_dump``: it runs for every site of every
        plan, and the enums are ``str`` already, so JSON takes them as they are.
        """
        pending = self.pending_transfer
        paid_until = self.package_paid_until
        data: list[Any] = [
            self.id,
            self.name,
            self.owner,
            self.billing_contact,
            self.package,
            None if paid_until is None else paid_until.isoformat(),
            sorted(self.collaborators.items()),
            None
            if pending is None
            else [
                pending.id,
                pending.to,
                pending.stay_as_collaborator,
                pending.expires_at.isoformat(),
            ],
            self.version,
        ]
        # Only where a platform reports them, so that other fingerprints stay as they were.
        if not self.package_known:
            data.append("package unknown")
        if self.unmapped_access:
            data.append(sorted(self.unmapped_access.items()))
        return data
