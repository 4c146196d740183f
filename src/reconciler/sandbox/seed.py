"""Sandbox seed files (DESIGN.md section 7): accounts and sites to start from.

Seeding sets the sandbox to the file's state: applying the same seed twice gives the
same state (no new versions, no invoices: a seed describes state, not purchases).
Accounts without a ``token`` keep their token, or get a generated one; ``read_token``
adds a token with the ``read`` scope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reconciler.desired.loader import MAX_NODES, parse_yaml
from reconciler.desired.problems import errors_in
from reconciler.desired.reading import FILE_LIMIT, FileRefused, SizeLimit, read_text
from reconciler.errors import ConfigError
from reconciler.model import (
    COLLABORATOR_CAP,
    SITE_ID_PATTERN,
    AccountKind,
    Email,
    Package,
    PackagePrice,
    Role,
)
from reconciler.sandbox.store import SandboxStore

_SYNTAX = "YAML syntax error: "
SEED_LIMIT = SizeLimit(
    64 << 20, "RECONCILER_MAX_SEED_BYTES", "a sandbox seed file", "raise the limit with"
)
"""A seed named on the command line is generated test data, often thousands of sites:
sized like a plan file. The repository's own ``sandbox.seed.yaml`` is a file the
repository holds (DESIGN.md section 7): 1 MiB, raised with RECONCILER_MAX_FILE_BYTES."""
BYTES_PER_VALUE = 8


class SeedError(ConfigError):
    """A seed file that cannot be read or applied; the message names the file."""


class SeedAccount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Email
    kind: AccountKind
    token: str | None = Field(default=None, min_length=8, pattern=r"^[!-~]+$")
    """The ``write`` token. Printable ASCII without spaces: it travels in an HTTP header."""
    read_token: str | None = Field(default=None, min_length=8, pattern=r"^[!-~]+$")
    """A ``read`` token (lists, reads and dry runs), e.g. for pull-request plans."""


class SeedSite(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=SITE_ID_PATTERN)
    name: str
    owner: Email
    billing_contact: Email | None = None
    package: Package = Package.FREE
    package_paid_until: datetime | None = None
    package_price: PackagePrice | None = None
    """A paid package's price, when not the list price (another currency, monthly)."""
    collaborators: dict[Email, Role] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.owner in self.collaborators:
            raise ValueError(f"the owner {self.owner} cannot also be a collaborator")
        if self.package_price is not None and self.package is Package.FREE:
            raise ValueError("a free package has no package_price")
        cap = COLLABORATOR_CAP[self.package]
        if len(self.collaborators) > cap:
            raise ValueError(f"the {self.package.value} package allows at most {cap} collaborators")
        return self


class Seed(BaseModel):
    """A whole seed file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: list[SeedAccount] = Field(default_factory=list)
    sites: list[SeedSite] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _refuse_duplicates("account", [a.email for a in self.accounts])
        tokens = [t for a in self.accounts for t in (a.token, a.read_token) if t is not None]
        if len(set(tokens)) != len(tokens):
            raise ValueError("every token must be different (a token names one account and scope)")
        _refuse_duplicates("site id", [s.id for s in self.sites])
        return self


def _refuse_duplicates(what: str, values: list[str]) -> None:
    twice = sorted(value for value, count in Counter(values).items() if count > 1)
    if twice:
        raise ValueError(f"{what} listed more than once: {', '.join(twice)}")


@dataclass(frozen=True)
class SeedResult:
    accounts: int
    sites: int


def load_seed(path: Path, *, root: Path | None = None) -> Seed:
    """Read and validate a seed file; every problem is reported with the file name.

    Read like a site file (the same size, depth and alias guards), with room for many
    sites. With ``root`` it is the repository's own ``sandbox.seed.yaml``, which must
    resolve inside it; a seed named on the command line is the user's to choose.
    """
    limit = SEED_LIMIT if root is None else FILE_LIMIT  # the repository's own: 1 MiB
    try:
        text = read_text(path, str(path), limit, root=root)
    except FileRefused as exc:
        raise SeedError(f"{path}: cannot read the seed file ({exc.reason})") from None
    data = _data_of(text, path)
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed file is a mapping with 'accounts' and 'sites'")
    try:
        return Seed.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SeedError(f"{path}: the seed file has problems:\n{problems}") from None


def _data_of(text: str, path: Path) -> object:
    """The seed's data, read by the same loader and within the same limits as site files.

    A seed's values are bounded by its size: a real seed spends about 15 bytes a value
    (ids, names, addresses), so one value per ``BYTES_PER_VALUE`` is room enough for many
    sites while a flow list of one-character values is refused after being counted, not
    built. Aliases may not blow it up beyond that either.
    """
    max_nodes = MAX_NODES + len(text) // BYTES_PER_VALUE
    parsed = parse_yaml(
        text,
        str(path),
        max_nodes=max_nodes,
        usual="a seed holds about one value per 15 bytes",
        allow_empty=True,
    )
    refused = errors_in(parsed.problems)
    if parsed.document is None or refused:
        problem = (refused or list(parsed.problems))[0]
        where = problem.location
        message = problem.message
        if message.startswith(_SYNTAX):
            message = "not valid YAML: " + message.removeprefix(_SYNTAX)
        raise SeedError(f"{path}:{where.line}:{where.column}: {message}")
    return parsed.document.data if parsed.document.data is not None else {}


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def apply_seed(store: SandboxStore, seed: Seed, *, source: Path | str = "seed") -> SeedResult:
    """Set the sandbox to the seed's accounts and sites, in one transaction."""
    with store.transaction() as tx:
        for account in seed.accounts:
            tx.ensure_account(
                account.email, account.kind, token=account.token, read_token=account.read_token
            )
        for site in seed.sites:
            if tx.account(site.owner) is None:
                raise SeedError(
                    f"{source}: site {site.id!r}: the owner {site.owner} is not an account; "
                    "add it under 'accounts'"
                )
            tx.put_site(
                site.id,
                name=site.name,
                owner=site.owner,
                billing_contact=site.billing_contact or site.owner,
                package=site.package,
                collaborators=site.collaborators,
                package_paid_until=site.package_paid_until,
                package_price=site.package_price,
            )
    return SeedResult(accounts=len(seed.accounts), sites=len(seed.sites))


def seed_file(store: SandboxStore, path: Path, *, root: Path | None = None) -> SeedResult:
    """Load ``path`` and apply it to ``store`` (``root``: see ``load_seed``)."""
    return apply_seed(store, load_seed(path, root=root), source=path)
