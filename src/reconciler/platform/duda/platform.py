"""Duda as a :class:`~reconciler.platform.base.Platform` (DESIGN.md section 9).

The mapping:

- every site of the partner account is the expert's (owner and billing contact: the
  expert of reconciler.yaml); the site id is Duda's ``site_name``;
- a collaborator is a CUSTOMER account named by its e-mail, with a permission set on the
  site; its role is the highest role whose set the permissions contain (a set that
  contains none is reported and left alone);
- Duda cannot list who has access to a site: the addresses the repository names
  (:meth:`DudaPlatform.attend`) are each asked which sites they can access, and each
  grant found is read. An account named nowhere is invisible (the plan says so once);
- ``package`` is a site plan through ``plans:`` (package -> planId), read for the sites
  whose file manages it;
- owner, billing contact, transfers and dry runs have no API: ``Traits.by_hand`` says
  what to do in Duda's dashboard instead.

Reads cost one request a page of 100 sites, one an address and one a grant (and one for
the permission names when a role is ``all``). Writes re-read first (one request) and are
idempotent by their nature: create-if-missing, overwrite, delete.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.errors import ReconcilerError
from reconciler.model import ObservedSite, Package, Role
from reconciler.platform.base import (
    Capability,
    Interest,
    PlatformBase,
    Traits,
    Written,
)
from reconciler.platform.duda import ALL, DudaConfig
from reconciler.platform.errors import Conflict, NotFound, PlatformError

if TYPE_CHECKING:
    from reconciler.platform.duda.api import DudaClient

PAGE = 100  # sites a listing page (Duda's largest, as far as its sources say)
READERS = 8  # requests under way at once; the pacer keeps them to rate_limit
ACCOUNTS = "accounts"
SITES = ("sites", "multiscreen")

BLIND_SPOT = (
    "Duda cannot list who has access to a site: only the addresses the site files and "
    "people.yaml name are looked up, so an account named nowhere is invisible to this "
    "plan and keeps whatever access it has"
)
TRANSFER_STEPS = (
    "is done by hand in Duda's dashboard: open the site's menu (the "
    "three dots), choose Transfer Site, click Copy Transfer Link (it expires after 24 "
    "hours) and send it to the new owner, who accepts it logged in to their own Duda "
    "account. Until then the site is yours and paid by you; this note stays on every plan "
    "until the file says `owner: expert`"
)
BILLING_STEPS = (
    "stays by hand: Duda bills the partner account (you) for every site; to charge the "
    "client, use Client Billing in Duda's dashboard (Clients & Team > Client Billing), "
    "or take billing_contact out of the file"
)
PLAN_STEPS = (
    "is done by hand: map packages to Duda planIds with `plans:` in reconciler.yaml's "
    "platform block, or change the site's plan in Duda's dashboard"
)


@dataclass(frozen=True)
class _Reading:
    """What one listing read: site_name -> domain, the addresses Duda has an account
    for, each grant found (a gone one left out) and each plan that maps to a package."""

    sites: Mapping[str, str | None]
    reached: frozenset[str]
    grants: Mapping[tuple[str, str], frozenset[str]]
    plans: Mapping[str, Package]


@dataclass(frozen=True)
class _Written:
    version: int = 0  # Duda has no versions: writes are idempotent by their nature


class DudaPlatform(PlatformBase):
    """Duda's Partner API for one partner account, over one :class:`DudaClient`."""

    def __init__(
        self,
        settings: DudaConfig,
        user: str,
        password: str,
        *,
        readers: int = READERS,
        **client_options: Any,
    ) -> None:
        self.settings = settings
        self.readers = readers
        self.url = settings.url
        has = {Capability.COLLABORATORS}
        steps = {Capability.TRANSFERS: TRANSFER_STEPS, Capability.BILLING_CONTACT: BILLING_STEPS}
        if settings.plans is not None:
            has.add(Capability.PACKAGES)
        else:
            steps[Capability.PACKAGES] = PLAN_STEPS
        self.capabilities = frozenset(has)
        self.traits = Traits(
            collaborator_cap=False,
            packages_are_purchases=False,
            by_hand=steps,
            notes=(BLIND_SPOT,),
            reads_by_address=True,
            handover_keeps_collaborators=False,  # a transferred site leaves the account
            packages=None if settings.plans is None else frozenset(settings.plans),
            packages_hint="add it to `plans:` in reconciler.yaml's platform block, or "
            "take `package` out of the file",
        )
        self._user = user
        self._password = password
        self._options = client_options
        self._client: DudaClient | None = None
        self._lock = threading.Lock()
        self._interest: Interest | None = None
        self._names: tuple[str, ...] | None = None
        self._accounts: set[str] = set()  # accounts the latest listing found on Duda

    @classmethod
    def over(cls, settings: DudaConfig, client: DudaClient) -> DudaPlatform:
        """The platform over a client made elsewhere (tests, benchmarks)."""
        platform = cls(settings, "", "")
        platform._client = client
        return platform

    def __repr__(self) -> str:
        return f"DudaPlatform({self.url!r})"

    @property
    def client(self) -> DudaClient:
        with self._lock:
            if self._client is None:
                from reconciler.platform.duda.api import DudaClient

                variables = (self.settings.user_env, self.settings.password_env)
                self._client = DudaClient(
                    self.url, self._user, self._password,
                    rate_limit=self.settings.rate_limit, variables=variables, **self._options,
                )  # fmt: skip
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    def clock(self) -> datetime | None:
        return None if self._client is None else self._client.last_date()

    # -- reads --

    def attend(self, interest: Interest) -> None:
        self._interest = interest

    def sites(self) -> Iterator[ObservedSite]:
        """Every site of the partner account, with the access of every address the
        repository names and the plans of the sites whose file manages one."""
        interest = self._interest
        if interest is None:
            raise ReconcilerError(
                "the duda platform lists sites only once it knows which addresses to look "
                "for (Platform.attend)"
            )
        read = self._read(interest)
        self._accounts = set(read.reached)
        access: dict[str, dict[str, Role]] = {}
        odd: dict[str, dict[str, str]] = {}
        for (address, site), granted in read.grants.items():
            role = self.role_of(granted)
            if role is None:
                odd.setdefault(site, {})[address] = ", ".join(sorted(granted)) or "none"
            else:
                access.setdefault(site, {})[address] = role
        for site_name, domain in read.sites.items():
            package = read.plans.get(site_name)
            yield ObservedSite(
                id=site_name,
                name=domain or site_name,
                name_known=False,  # Duda has no display name: its domain or site_name
                owner=interest.expert,
                billing_contact=interest.expert,
                package=package or Package.FREE,
                package_known=package is not None,
                collaborators=access.get(site_name, {}),
                unmapped_access=odd.get(site_name, {}),
                version=0,
            )

    def _read(self, interest: Interest) -> _Reading:
        """The listing, each address's sites, then each grant found and each plan asked
        for: several requests at once, which the pacer keeps to ``rate_limit``."""
        addresses = sorted(interest.addresses)
        with ThreadPoolExecutor(self.readers, thread_name_prefix="duda") as pool:
            listing = pool.submit(self._listing)
            names = pool.submit(self.permission_names) if self._needs_names() else None
            found = dict(zip(addresses, pool.map(self._sites_of, addresses), strict=True))
            sites = listing.result()
            if names is not None:
                names.result()
            reached = {address: held for address, held in found.items() if held is not None}
            pairs = [(a, site) for a, held in reached.items() for site in held if site in sites]
            grants = dict(zip(pairs, pool.map(self._permissions_of, pairs), strict=True))
            managed = interest.packages if self.settings.plans is not None else ()
            wanted = [site for site in sorted(managed) if site in sites]
            plans = dict(zip(wanted, pool.map(self._package_of, wanted), strict=True))
        return _Reading(
            sites=sites,
            reached=frozenset(reached),
            grants={pair: held for pair, held in grants.items() if held is not None},
            plans={site: package for site, package in plans.items() if package is not None},
        )

    def _listing(self) -> dict[str, str | None]:
        """site_name -> domain of every site, one request a page (offset paging)."""
        found: dict[str, str | None] = {}
        offset = 0
        while True:
            page = self.client.get(*SITES, params={"offset": offset, "limit": PAGE})
            results = _field(page, "results", list, "GET /sites/multiscreen")
            for site in results:
                name = site.get("site_name") if isinstance(site, dict) else None
                if not isinstance(name, str):
                    raise PlatformError("GET /sites/multiscreen: a listed site has no site_name")
                domain = site.get("site_domain")
                found[name] = domain if isinstance(domain, str) and domain else None
            total = _field(page, "total_responses", int, "GET /sites/multiscreen")
            offset += len(results)
            if not results or offset >= total:
                return found

    def _sites_of(self, address: str) -> list[str] | None:
        """The sites an account can access; None when Duda has no such account."""
        try:
            answer = self.client.get(ACCOUNTS, "grant-access", address, *SITES)
        except NotFound:
            return None
        listed = answer if isinstance(answer, list) else _field(answer, "results", list, "")
        return [
            item["site_name"]
            for item in listed
            if isinstance(item, dict) and isinstance(item.get("site_name"), str)
        ]

    def _permissions_of(self, pair: tuple[str, str]) -> frozenset[str] | None:
        """The permission names of an account on a site; None when it has none there."""
        address, site = pair
        try:
            answer = self.client.get(ACCOUNTS, address, "sites", site, "permissions")
        except NotFound:
            return None
        names = permission_list(answer, f"GET /accounts/{address}/sites/{site}/permissions")
        return frozenset(names) if names else None

    def _package_of(self, site: str) -> Package | None:
        """The package a site's plan maps to (``plans:``); None for a plan it does not map."""
        plan_id = self._plan_id(site)
        by_id = {plan: package for package, plan in (self.settings.plans or {}).items()}
        return by_id.get(plan_id) if plan_id is not None else None

    def _plan_id(self, site: str) -> int | None:
        answer = self.client.get(*SITES, site, "plan")
        return plan_id_of(answer)

    def permission_names(self) -> tuple[str, ...]:
        """Every permission name Duda lists (read once, for a role mapped to ``all``)."""
        if self._names is None:
            answer = self.client.get(ACCOUNTS, "permissions", "multiscreen")
            self._names = tuple(permission_list(answer, "GET /accounts/permissions/multiscreen"))
        return self._names

    def _needs_names(self) -> bool:
        return any(self.settings.roles.of(role) == ALL for role in Role)

    def permissions_for(self, role: Role) -> list[str]:
        """The permission names a role grants."""
        names = self.settings.roles.of(role)
        return list(self.permission_names()) if names == ALL else list(names)

    def role_of(self, granted: Iterable[str]) -> Role | None:
        """The highest role whose permissions ``granted`` contains; None if none."""
        have = set(granted)
        for role in sorted(Role, key=lambda r: r.rank, reverse=True):
            if set(self.permissions_for(role)) <= have:
                return role
        return None

    # -- writes: each re-reads first, and is idempotent by its nature --

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        """Grant (or overwrite) the role's permissions; the account is created first when
        Duda has none (a CUSTOMER account named by the e-mail; Duda e-mails nobody)."""
        wanted = self.permissions_for(role)
        if email in self._accounts:  # it had an account when the plan was made
            granted = self._permissions_of((email, site_id))
            if granted == frozenset(wanted):
                return _Written()  # already so: a re-run after a lost answer
        else:
            self._ensure_account(email)
        body = {"permissions": wanted}
        path = (ACCOUNTS, email, "sites", site_id, "permissions")
        try:
            self.client.request("POST", path, body=body)
        except NotFound:  # the account went away since the plan: make it, once
            self._ensure_account(email)
            self.client.request("POST", path, body=body)
        self._accounts.add(email)
        return _Written()

    def _ensure_account(self, email: str) -> None:
        try:
            self.client.get(ACCOUNTS, email)
            return
        except NotFound:
            pass
        body = {"account_name": email, "email": email, "account_type": "CUSTOMER"}
        with suppress(Conflict):  # made meanwhile, or by a first attempt whose answer was lost
            self.client.request("POST", (ACCOUNTS, "create"), body=body)

    def delete_collaborator(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        """Remove the account's access to the site (the account stays: it may have other
        sites); never by granting an empty set, which older Duda read as everything."""
        if self._permissions_of((email, site_id)) is None:
            return _Written()  # nothing to remove
        with suppress(NotFound):  # gone already: a first attempt whose answer was lost
            self.client.request("DELETE", (ACCOUNTS, email, "sites", site_id, "permissions"))
        return _Written()

    def purchase(
        self, site_id: str, package: Package, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        """Set the site's plan to the package's planId (a feature plan: nobody is charged
        through the API)."""
        plans = self.settings.plans or {}
        if package not in plans:
            raise ReconcilerError(
                f"{site_id}: platform.plans in reconciler.yaml maps no Duda plan to "
                f"{package.value}; add `{package.value}: <planId>` to it"
            )
        plan_id = plans[package]
        if self._plan_id(site_id) == plan_id:
            return _Written()
        self.client.request("POST", (*SITES, site_id, "plan", str(plan_id)))
        return _Written()


def permission_list(answer: object, operation: str) -> list[str]:
    """Permission names from either shape Duda's sources give: ``{"permissions": [...]}``
    (its documentation and types) or a bare list (its client's tests)."""
    listed = answer.get("permissions") if isinstance(answer, dict) else answer
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise PlatformError(f"{operation}: Duda's answer is not a list of permission names")
    return listed


def plan_id_of(answer: object) -> int | None:
    """A plan's id, under ``planId`` (documentation, types) or ``planID`` (client's tests)."""
    if not isinstance(answer, dict):
        raise PlatformError("GET /sites/multiscreen/{site}/plan: Duda's answer is not a plan")
    value = answer.get("planId", answer.get("planID"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _field(answer: object, name: str, kind: type, operation: str) -> Any:
    value = answer.get(name) if isinstance(answer, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PlatformError(f"{operation}: Duda's answer has no {name}")
    return value
