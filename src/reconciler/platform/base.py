"""What the reconciler needs of a platform: a Protocol, and the capabilities it offers.

The reconcile layer depends on this module, never on a client: another site-builder
platform is one more module in ``platform/`` that implements :class:`Platform` and says
which :class:`Capability` it has. The planner turns a change that needs a capability the
platform lacks into a ``blocked`` note ("do it by hand") instead of a failed apply.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from reconciler.model import Package, Role


class Capability(StrEnum):
    """A family of writes a platform can make through its API."""

    COLLABORATORS = "collaborators"
    BILLING_CONTACT = "billing contact"
    TRANSFERS = "transfers"
    PACKAGES = "packages"
    DRY_RUN = "dry runs"


EVERY_CAPABILITY = frozenset(Capability)


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
    """A platform the reconciler can manage sites on."""

    @property
    def capabilities(self) -> frozenset[Capability]: ...
