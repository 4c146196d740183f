"""A portfolio with every kind of site, in a real repository and its embedded sandbox.

The platform state is made through the sandbox's own store (its rules and its clock),
as the clients would have made it: handovers accepted with and without the expert
staying, pending (one expiring within three days), declined, expired; a client without
an account; a client's site the expert lost access to (drift); a site without a file;
a site whose name is hostile HTML. Money: the studio's own site is premium at the list
price (EUR, a year), the work-in-progress site premium at USD 12.90 a month, renewing
first; the site handed over to Anna is premium too, on her card.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.model import AccountKind, BillingPeriod, Package, PackagePrice, Role
from reconciler.sandbox.store import SandboxStore
from support.repo import EXPERT as EXPERT

ANNA = "anna@acme-bakery.example"
BOB = "bob@bobs-shop.example"
CARA = "cara@cara-cafe.example"
GUS = "gus@gus-garden.example"
DORA = "dora@dora-dental.example"
ERIK = "erik@erik-events.example"
FAY = "fay@fay-flowers.example"
NOBODY = "new@no-account.example"
TOM = "tom@freelance.example"
HOSTILE = "<img src=x onerror=alert(1)>"
_TODAY = datetime.now(UTC).replace(microsecond=0)
PAID_UNTIL = _TODAY + timedelta(days=120)
"""When studio-site's yearly premium renews (relative: the sandbox's clock is today's)."""
RENEWS_SOON = _TODAY + timedelta(days=20)
"""When wip-site's monthly premium renews: the expert's next renewal."""
MONTHLY_USD = PackagePrice(amount_cents=1290, currency="USD", period=BillingPeriod.MONTH)
PREMIUM = {"studio-site": (PAID_UNTIL, None), "wip-site": (RENEWS_SOON, MONTHLY_USD),
           "stay-site": (PAID_UNTIL, None)}  # fmt: skip
"""Premium sites: when they renew, and their price (None: the list price, EUR a year)."""

# site id -> (site file, or None for no file)
FILES: dict[str, str | None] = {
    "studio-site": "owner: expert\nbilling_contact: studio@pixel.example\npackage: premium\n",
    "wip-site": f"owner: expert\ncollaborators:\n  {CARA}: viewer\n",
    "stay-site": f"owner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n",
    "left-site": f"owner: {BOB}\n",
    "pending-site": f"owner: {CARA}\ncollaborators:\n  {EXPERT}: editor\n",
    "soon-site": f"owner: {GUS}\ncollaborators:\n  {EXPERT}: editor\n",
    "declined-site": f"owner: {DORA}\n",
    "expired-site": f"owner: {ERIK}\n",
    "noaccount-site": f"owner: {NOBODY}\n",
    "drift-site": f"owner: {FAY}\ncollaborators:\n  {EXPERT}: editor\n",
    "hostile-site": f"name: '{HOSTILE}'\nowner: expert\n",
    "unmanaged-site": None,
}


@dataclass
class Portfolio:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / ".reconciler" / "sandbox.db"

    def run(self, *args: str) -> Result:
        """The CLI in a terminal 120 columns wide (the text status fits its width: not
        the width of wherever the tests run, nor a COLUMNS the shell exported)."""
        env = {"NO_COLOR": "1", "COLUMNS": "120"}
        return CliRunner().invoke(
            cli, ["--root", str(self.root), *args], env=env, catch_exceptions=False
        )

    def status_json(self) -> dict[str, Any]:
        result = self.run("status", "--format", "json")
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def store(self) -> SandboxStore:
        return SandboxStore(self.db)

    def platform_sites(self) -> Iterator[tuple[str, Any]]:
        """Every site of the sandbox, as the platform holds it (not as the expert sees it)."""
        with self.store() as store:
            for site_id in FILES:
                yield site_id, store.site(site_id)


def build_portfolio(root: Path) -> Portfolio:
    (root / "sites").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(f"expert: {EXPERT}\n", encoding="utf-8")
    for site_id, body in FILES.items():
        if body is not None:
            text = f"id: {site_id}\n{body}"
            (root / "sites" / f"{site_id}.yaml").write_text(text, encoding="utf-8")
    portfolio = Portfolio(root)
    _make_platform(portfolio.db)
    return portfolio


def _make_platform(db: Path) -> None:
    now = datetime.now(UTC)
    with SandboxStore(db) as store:
        store.ensure_account(EXPERT, AccountKind.EXPERT, token="studio-token")
        for client in (ANNA, BOB, CARA, GUS, DORA, ERIK, FAY, TOM):
            store.ensure_account(client, AccountKind.CUSTOMER)
        with store.transaction() as tx:
            for site_id in FILES:
                owner = FAY if site_id == "drift-site" else EXPERT
                premium = site_id in PREMIUM
                paid_until, price = PREMIUM.get(site_id, (None, None))
                tx.put_site(
                    site_id,
                    name=HOSTILE
                    if site_id == "hostile-site"
                    else site_id.replace("-", " ").title(),
                    owner=owner,
                    billing_contact=owner,
                    package=Package.PREMIUM if premium else Package.FREE,
                    package_paid_until=paid_until,
                    package_price=price,
                    collaborators={CARA: Role.VIEWER} if site_id == "wip-site" else {},
                )
    _hand_over(db, "stay-site", ANNA, stay=True, accept=True, at=now - timedelta(days=40))
    _hand_over(db, "left-site", BOB, stay=False, accept=True, at=now - timedelta(days=5))
    # An hour off whole days: days left are rounded up, and the platform's Date header
    # has whole seconds, so a transfer exactly N days old could read as N or N+1.
    hour = timedelta(hours=1)
    _hand_over(db, "pending-site", CARA, stay=True, accept=None, at=now - timedelta(days=1) - hour)
    _hand_over(db, "soon-site", GUS, stay=True, accept=None, at=now - timedelta(days=12) - hour)
    _hand_over(db, "declined-site", DORA, stay=False, accept=False, at=now - timedelta(days=3))
    _hand_over(db, "expired-site", ERIK, stay=False, accept=None, at=now - timedelta(days=20))


def _hand_over(
    db: Path, site_id: str, to: str, *, stay: bool, accept: bool | None, at: datetime
) -> None:
    """The expert starts a transfer at ``at``; the recipient answers (None: does not)."""
    with SandboxStore(db, clock=lambda: at) as store, store.transaction() as tx:
        transfer, _ = tx.start_transfer(EXPERT, site_id, to, stay, None)
        if accept is not None:
            tx.respond_to_transfer(to, transfer.id, accept, None)
