"""What the fake Duda holds: sites, client accounts, grants and plans, in memory.

Each operation is what one documented endpoint does to Duda's state (DUDA_API.md), and
fails the way Duda documents: a ``DudaError`` that the server answers as 400 with
``{"error_code", "message"}``. Where Duda documents nothing (a read or removal of a grant
that does not exist, an unknown plan id), the fake's choice is named at the method.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from .models import DOCUMENTED_PERMISSIONS, AccountType, CreateAccountRequest, ErrorCode

EmptyGrant = Literal["nothing", "everything"]

SITE_DATE = "2025-03-01T09:00:00"  # D README: dates are yyyy-mm-ddThh:mm:ss in UTC


class DudaError(Exception):
    """A documented 400: the error code and a message in Duda's words where it has some."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


@dataclass(frozen=True)
class FakeSite:
    name: str
    owner: str
    domain: str | None = None
    external_uid: str | None = None
    labels: tuple[str, ...] = ()
    plan_id: int | None = None


@dataclass(frozen=True)
class FakeAccount:
    name: str
    account_type: AccountType = "CUSTOMER"
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lang: str | None = None
    company_name: str | None = None


@dataclass
class DudaState:
    """Duda's data for one partner account (the one whose API credentials the fake takes)."""

    partner: str = "partner@agency.example"
    permission_names: tuple[str, ...] = DOCUMENTED_PERMISSIONS
    sites: dict[str, FakeSite] = field(default_factory=dict)  # in creation order
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    grants: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    plans: dict[int, str] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- seeding (the Python API a test uses to set the scene) ---------------------------

    def add_plan(self, plan_id: int, name: str) -> None:
        with self.lock:
            self.plans[plan_id] = name

    def add_site(
        self,
        name: str,
        *,
        owner: str | None = None,
        domain: str | None = None,
        external_uid: str | None = None,
        labels: Iterable[str] = (),
        plan: int | None = None,
    ) -> FakeSite:
        with self.lock:
            if name in self.sites:
                raise ValueError(f"the fake already has a site named {name!r}")
            if plan is None:  # a new site is on the first plan, as Duda puts it on a default
                plan = next(iter(self.plans), None)
            else:
                self._plan_name(plan)
            site = FakeSite(name, owner or self.partner, domain, external_uid, tuple(labels), plan)
            self.sites[name] = site
            return site

    def add_sites(self, names: Iterable[str], *, plan: int | None = None) -> None:
        for name in names:
            self.add_site(name, plan=plan)

    def add_account(
        self, name: str, account_type: AccountType = "CUSTOMER", **details: str
    ) -> None:
        with self.lock:
            if name in self.accounts:
                raise ValueError(f"the fake already has an account named {name!r}")
            self.accounts[name] = FakeAccount(name, account_type, **details)

    def grant(self, account: str, site: str, permissions: Sequence[str]) -> None:
        """Seed a grant, creating the client account when it is missing."""
        with self.lock:
            if account not in self.accounts:
                self.add_account(account)
            self.set_permissions(account, site, list(permissions), empty_grant="nothing")

    # --- what a test reads back -----------------------------------------------------------

    def granted(self, account: str, site: str) -> tuple[str, ...] | None:
        with self.lock:
            return self.grants.get((account, site))

    def site_plan(self, site: str) -> int | None:
        with self.lock:
            return self._site(site).plan_id

    # --- sites ---------------------------------------------------------------------------

    def list_sites(self, offset: int, limit: int) -> tuple[list[FakeSite], int]:
        with self.lock:
            every = list(self.sites.values())
            return every[offset : offset + limit], len(every)

    def get_site(self, name: str) -> FakeSite:
        with self.lock:
            return self._site(name)

    # --- accounts ------------------------------------------------------------------------

    def create_account(self, request: CreateAccountRequest) -> None:
        with self.lock:
            if request.account_name in self.accounts:
                raise DudaError(
                    "ResourceAlreadyExist",
                    f"Account with name '{request.account_name}' already exists",
                )
            details = request.model_dump(exclude={"account_name", "account_type"})
            self.accounts[request.account_name] = FakeAccount(
                request.account_name, request.account_type, **details
            )

    def get_account(self, name: str) -> FakeAccount:
        with self.lock:
            return self._account(name)

    def delete_account(self, name: str) -> None:
        """D "Delete Account": the account and every grant it held."""
        with self.lock:
            self._account(name)
            del self.accounts[name]
            for pair in [pair for pair in self.grants if pair[0] == name]:
                del self.grants[pair]

    # --- permissions ---------------------------------------------------------------------

    def permissions_of(self, account: str, site: str) -> tuple[str, ...]:
        """A pair without a grant is not documented; the fake says ResourceNotExist (the
        server answers an empty set instead under ``Variants.ungranted_read="empty"``)."""
        with self.lock:
            found = self.grants.get(self._pair(account, site))
            if found is None:
                raise DudaError(
                    "ResourceNotExist", f"Account '{account}' has no access to site '{site}'"
                )
            return found

    def set_permissions(
        self, account: str, site: str, permissions: list[str] | None, *, empty_grant: EmptyGrant
    ) -> None:
        """D "Grant Site Access": the set is overwritten. An empty or missing set grants
        nothing (current docs: the pair ends without access) or everything (older docs)."""
        with self.lock:
            pair = self._pair(account, site)
            unknown = sorted(set(permissions or ()) - set(self.permission_names))
            if unknown:
                raise DudaError("InvalidInput", f"Unknown permissions: {', '.join(unknown)}")
            if permissions:
                self.grants[pair] = self._in_list_order(permissions)
            elif empty_grant == "everything":
                self.grants[pair] = self.permission_names
            else:
                self.grants.pop(pair, None)

    def remove_permissions(self, account: str, site: str) -> None:
        """D "Remove Site Access". Removing a grant that does not exist is not documented;
        the fake says ResourceNotExist, so a client that re-reads first never sees it."""
        with self.lock:
            self.permissions_of(account, site)
            del self.grants[(account, site)]

    def sites_of(self, account: str) -> list[str]:
        with self.lock:
            self._account(account)
            return [site for site in self.sites if (account, site) in self.grants]

    # --- plans ---------------------------------------------------------------------------

    def plan_of(self, site: str) -> tuple[int, str]:
        with self.lock:
            plan_id = self._site(site).plan_id
            if plan_id is None:
                raise DudaError("ResourceNotExist", f"Site '{site}' has no plan")
            return plan_id, self.plans[plan_id]

    def set_plan(self, site: str, plan_id: int) -> tuple[int, str]:
        """D "Update Site Plan". An unknown plan id is not documented; the fake says
        ResourceNotExist."""
        with self.lock:
            found = self._site(site)
            name = self._plan_name(plan_id)
            self.sites[site] = replace(found, plan_id=plan_id)
            return plan_id, name

    # --- lookups -------------------------------------------------------------------------

    def _site(self, name: str) -> FakeSite:
        found = self.sites.get(name)
        if found is None:  # D README's own example of an error
            raise DudaError("ResourceNotExist", f"Site with alias '{name}' doesn't exist")
        return found

    def _account(self, name: str) -> FakeAccount:
        found = self.accounts.get(name)
        if found is None:
            raise DudaError("ResourceNotExist", f"Account with name '{name}' doesn't exist")
        return found

    def _pair(self, account: str, site: str) -> tuple[str, str]:
        self._account(account)
        self._site(site)
        return account, site

    def _plan_name(self, plan_id: int) -> str:
        name = self.plans.get(plan_id)
        if name is None:
            raise DudaError("ResourceNotExist", f"Plan with id '{plan_id}' doesn't exist")
        return name

    def _in_list_order(self, permissions: list[str]) -> tuple[str, ...]:
        """Answered in the order of the names list, not as sent: a client must compare
        sets, and one that compares lists fails here."""
        wanted = set(permissions)
        return tuple(name for name in self.permission_names if name in wanted)
