"""The fake's seed format: a small YAML or JSON file of plans, sites, accounts and grants.

```yaml
partner: studio@agency.example     # optional: the partner account (owner of every site)
permission_names: [STATS_TAB, EDIT] # optional: the names list (default: Duda's 22)
plans:                              # optional; a site with no plan gets the first
  - {id: 1, name: FREE}
  - {id: 2, name: PREMIUM}
sites:
  - acme-bakery                     # a name alone, or
  - {name: bolt-gym, plan: 2, domain: boltgym.example, labels: [priority client]}
accounts:                           # client accounts (CUSTOMER unless said otherwise)
  - ann@example.com
  - {name: ben@example.com, type: STAFF, first_name: Ben}
grants:                             # an account named only here is created
  - {account: ann@example.com, site: acme-bakery, permissions: [STATS_TAB, EDIT]}
```
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .models import AccountType
from .state import DudaError, DudaState


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedPlan(_Seed):
    id: int
    name: str = Field(min_length=1)


class SeedSite(_Seed):
    name: str = Field(min_length=1)
    plan: int | None = None
    owner: str | None = None
    domain: str | None = None
    external_uid: str | None = None
    labels: list[str] = []


class SeedAccount(_Seed):
    name: str = Field(min_length=1)
    type: AccountType = "CUSTOMER"
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lang: str | None = None
    company_name: str | None = None


class SeedGrant(_Seed):
    account: str = Field(min_length=1)
    site: str = Field(min_length=1)
    permissions: list[str] = Field(min_length=1)


class Seed(_Seed):
    partner: str | None = None
    permission_names: list[str] | None = None
    plans: list[SeedPlan] = []
    sites: list[SeedSite | str] = []
    accounts: list[SeedAccount | str] = []
    grants: list[SeedGrant] = []


class SeedError(Exception):
    """A seed file the fake cannot use; the message says which file and what is wrong."""


def load_seed(path: Path) -> Seed:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SeedError(f"{path}: cannot read the seed file ({error.strerror})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
        return Seed.model_validate(data or {})
    except (ValueError, YAMLError) as error:
        raise SeedError(f"{path}: not a Duda fake seed: {_reason(error)}") from None


def _reason(error: ValueError | YAMLError) -> str:
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return f"{where}: {problem['msg']}"
    return str(error).splitlines()[0]


def apply_seed(state: DudaState, seed: Seed) -> None:
    """Lay the seed into the state, in the order that lets each part name the last."""
    with state.lock:
        if seed.partner:
            state.partner = seed.partner
        if seed.permission_names is not None:
            state.permission_names = tuple(seed.permission_names)
        for plan in seed.plans:
            state.add_plan(plan.id, plan.name)
        for site in seed.sites:
            _add_site(state, SeedSite(name=site) if isinstance(site, str) else site)
        for account in seed.accounts:
            _add_account(state, SeedAccount(name=account) if isinstance(account, str) else account)
        for grant in seed.grants:
            _add_grant(state, grant)


def _add_site(state: DudaState, site: SeedSite) -> None:
    details = site.model_dump(exclude={"name"})
    try:
        state.add_site(site.name, **details)
    except (ValueError, DudaError) as error:
        raise SeedError(f"site {site.name!r}: {error}") from None


def _add_account(state: DudaState, account: SeedAccount) -> None:
    details = account.model_dump(exclude={"name", "type"}, exclude_none=True)
    try:
        state.add_account(account.name, account.type, **details)
    except ValueError as error:
        raise SeedError(f"account {account.name!r}: {error}") from None


def _add_grant(state: DudaState, grant: SeedGrant) -> None:
    try:
        state.grant(grant.account, grant.site, grant.permissions)
    except DudaError as error:
        raise SeedError(f"grant of {grant.site!r} to {grant.account!r}: {error.message}") from None
