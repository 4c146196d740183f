"""What the reconciler needs of a platform: one Protocol, and the capabilities it offers.

Every operation (plan, apply, import, status, history) and the reconcile layer depend on
this module, never on a client: another site-builder platform is one more module in
``platform/`` that implements :class:`Platform` and says which :class:`Capability` it
has (DESIGN.md section 4, "The platform boundary is whole").

Only the listing of sites is required. For each family a platform may lack there is a
fallback, said once as a note of the plan:

- ``IDENTITY``: the expert named in reconciler.yaml is taken for the caller, unchecked;
- ``CLOCK``: the ``Date`` of the platform's latest answer (``clock()``), else UTC now;
- ``SENT_TRANSFERS`` / ``SITE_TRANSFERS``: no transfer memory (a finished handover
  shows as a site the expert cannot see; history shows git only);
- ``DRY_RUN``: no preflight (apply finds the refusals);
- a write family: its changes become ``blocked`` notes ("do it by hand").

:class:`PlatformBase` raises :class:`Unsupported` for every optional family, so that a
new platform implements only what it has.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from reconciler.errors import ReconcilerError
from reconciler.model import ObservedSite, Package, Role, TransferRecord
from reconciler.platform.errors import PlatformError


class Capability(StrEnum):
    """A family of reads or writes a platform can make through its API."""

    IDENTITY = "identity"
    CLOCK = "clock"
    SENT_TRANSFERS = "sent transfers"
    SITE_TRANSFERS = "site transfers"
    COLLABORATORS = "collaborators"
    BILLING_CONTACT = "billing contact"
    TRANSFERS = "transfers"
    PACKAGES = "packages"
    DRY_RUN = "dry runs"


EVERY_CAPABILITY = frozenset(Capability)
WRITE_CAPABILITIES = frozenset(
    {
        Capability.COLLABORATORS,
        Capability.BILLING_CONTACT,
        Capability.TRANSFERS,
        Capability.PACKAGES,
    }
)


class Unsupported(ReconcilerError):
    """A call to a family the platform does not have (a caller checks ``capabilities``)."""


@dataclass(frozen=True)
class Traits:
    """How a platform differs from the rules of DESIGN.md section 2, beyond which API
    families it has; the plan takes them into account (pure data, no I/O).

    - ``collaborator_cap``: the package caps the number of collaborators (rule 9);
    - ``packages_are_purchases``: a package is bought and paid for (rules 6-7: transfer
      before upgrading, nothing downgrades); else it is a feature plan the expert sets;
    - ``by_hand``: for a write family the API lacks, what to do instead, in the
      platform's own words (its dashboard), said in each ``blocked`` note;
    - ``notes``: said once in every plan (what the platform cannot show, say);
    - ``reads_by_address``: the platform cannot list who has access to a site, so it is
      told the addresses the repository names (:meth:`Platform.attend`) before a listing;
    - ``handover_keeps_collaborators``: a handover can keep the former owner on as a
      collaborator (rule 5); where it cannot, the plan gives no advice about staying on;
    - ``packages``: the packages it can set, where that depends on its configuration
      (None: all); a change to another is a ``blocked`` note that ends in
      ``packages_hint``, never a write that apply would find refused.
    """

    collaborator_cap: bool = True
    packages_are_purchases: bool = True
    by_hand: Mapping[Capability, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reads_by_address: bool = False
    handover_keeps_collaborators: bool = True
    packages: frozenset[Package] | None = None
    packages_hint: str = ""


DEFAULT_TRAITS = Traits()


@dataclass(frozen=True)
class Interest:
    """What the repository names, for a platform that reads by name (``reads_by_address``).

    ``expert``: reconciler.yaml's expert; ``addresses``: every e-mail the site files and
    people.yaml name (people who left included); ``packages``: the sites whose file
    manages ``package``.
    """

    expert: str
    addresses: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()


# -- the six writes as values: what a batch of dry runs asks about --


@dataclass(frozen=True)
class PutCollaborator:
    site_id: str
    email: str
    role: Role


@dataclass(frozen=True)
class DeleteCollaborator:
    site_id: str
    email: str


@dataclass(frozen=True)
class SetBillingContact:
    site_id: str
    email: str


@dataclass(frozen=True)
class StartTransfer:
    site_id: str
    to: str
    stay_as_collaborator: bool


@dataclass(frozen=True)
class CancelTransfer:
    site_id: str
    transfer_id: str


@dataclass(frozen=True)
class Purchase:
    site_id: str
    package: Package


Write = (
    PutCollaborator
    | DeleteCollaborator
    | SetBillingContact
    | StartTransfer
    | CancelTransfer
    | Purchase
)
"""One of the six writes, with its arguments."""


@dataclass(frozen=True)
class DryRun:
    """One write of a batch of dry runs, conditional on the version the plan saw."""

    write: Write
    if_match: int | None = None


DryRunAnswer = PlatformError | None
"""What a dry run found: None if the write would be accepted, else the error the write
would meet (a refusal such as ``Conflict``, or ``ServerError``/``TransportError`` when
the platform could not be asked: ``PlatformError.is_refusal`` tells them apart)."""


class Written(Protocol):
    """The answer to a write: the site's version after it (for the next ``If-Match``)."""

    @property
    def version(self) -> int: ...


class SiteWriter(Protocol):
    """The writes apply makes, each conditional on a version and idempotent by key."""

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *, if_match: int | None, idempotency_key: str
    ) -> Written: ...

    def delete_collaborator(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written: ...

    def set_billing_contact(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written: ...

    def start_transfer(
        self,
        site_id: str,
        to: str,
        stay_as_collaborator: bool,
        *,
        if_match: int | None,
        idempotency_key: str,
    ) -> Written: ...

    def cancel_transfer(
        self, site_id: str, transfer_id: str, *, if_match: int | None, idempotency_key: str
    ) -> Written: ...

    def purchase(
        self, site_id: str, package: Package, *, if_match: int | None, idempotency_key: str
    ) -> Written: ...


class Platform(SiteWriter, Protocol):
    """Everything the operations need of a platform, for one account.

    Reads raise :class:`~reconciler.platform.errors.PlatformError` (``NotFound`` for a
    site the account may not see); a call to a family outside ``capabilities`` raises
    :class:`Unsupported`.
    """

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The optional families this platform has (the site listing is always there)."""

    @property
    def traits(self) -> Traits:
        """How the platform's rules differ from DESIGN.md section 2 (:class:`Traits`)."""

    def attend(self, interest: Interest) -> None:
        """What the repository names, before ``sites()``; a platform that can list each
        site's collaborators has no use for it."""

    def identity(self) -> str:
        """The e-mail of the account the platform acts for (``IDENTITY``)."""

    def sites(self) -> Iterator[ObservedSite]:
        """Every site the account owns or collaborates on, one request per page."""

    def sent_transfers(self) -> Iterator[TransferRecord]:
        """Every transfer the account sent, of any status, newest first, also of sites it
        can no longer see: how each handover ended (``SENT_TRANSFERS``)."""

    def site_transfers(self, site_id: str) -> list[TransferRecord]:
        """Every transfer of a site the account sees, newest first (``SITE_TRANSFERS``)."""

    def clock(self) -> datetime | None:
        """The platform's time: its own clock (``CLOCK``: expiry and days left are the
        platform's), else the ``Date`` of its latest answer; None when it knows neither."""

    def dry_run(self, batch: Sequence[DryRun]) -> list[DryRunAnswer]:
        """Would the platform accept each write? One answer per write, in order; nothing
        changes, and a read-only token is enough (``DRY_RUN``)."""

    def close(self) -> None:
        """Release the connection; the platform is not used afterwards."""


class PlatformBase:
    """A start for a new platform: every optional family raises :class:`Unsupported`.

    A subclass implements ``sites``, overrides the families it has and lists them in
    ``capabilities``; the writes it lacks stay refused (the plan turns their changes
    into ``blocked`` notes, so they are never called).
    """

    capabilities: frozenset[Capability] = frozenset()
    traits: Traits = DEFAULT_TRAITS

    def attend(self, interest: Interest) -> None:
        return None

    def _unsupported(self, family: Capability) -> Unsupported:
        return Unsupported(f"{type(self).__name__} has no {family.value} API")

    def identity(self) -> str:
        raise self._unsupported(Capability.IDENTITY)

    def sites(self) -> Iterator[ObservedSite]:
        raise NotImplementedError  # the one family every platform has

    def sent_transfers(self) -> Iterator[TransferRecord]:
        raise self._unsupported(Capability.SENT_TRANSFERS)

    def site_transfers(self, site_id: str) -> list[TransferRecord]:
        raise self._unsupported(Capability.SITE_TRANSFERS)

    def clock(self) -> datetime | None:
        return None

    def dry_run(self, batch: Sequence[DryRun]) -> list[DryRunAnswer]:
        raise self._unsupported(Capability.DRY_RUN)

    def close(self) -> None:
        return None

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        raise self._unsupported(Capability.COLLABORATORS)

    def delete_collaborator(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        raise self._unsupported(Capability.COLLABORATORS)

    def set_billing_contact(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        raise self._unsupported(Capability.BILLING_CONTACT)

    def start_transfer(
        self,
        site_id: str,
        to: str,
        stay_as_collaborator: bool,
        *,
        if_match: int | None,
        idempotency_key: str,
    ) -> Written:
        raise self._unsupported(Capability.TRANSFERS)

    def cancel_transfer(
        self, site_id: str, transfer_id: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        raise self._unsupported(Capability.TRANSFERS)

    def purchase(
        self, site_id: str, package: Package, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        raise self._unsupported(Capability.PACKAGES)
