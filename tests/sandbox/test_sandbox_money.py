"""Money on the platform (DESIGN.md section 6): what a package costs, in which currency,
and when it renews; on the site in lists and alone, on purchases and on invoices."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sandbox_support import ANNA, STUDIO, TOKENS, FakeClock

from reconciler.model import AccountKind, BillingPeriod, Package, PackagePrice, Role
from reconciler.platform.schema import Invoice, Purchase, Site, SitePage
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.seed import SeedError, load_seed, seed_file
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import SandboxStore

ClientFor = Callable[[str], SandboxClient]
SITE = "acme-bakery"
YEARLY_EUR = PackagePrice(amount_cents=11_880, currency="EUR", period=BillingPeriod.YEAR)


def test_a_free_site_costs_nothing_and_renews_nothing(client_for: ClientFor) -> None:
    site = client_for(STUDIO).get_site(SITE)

    assert (site.package, site.package_price, site.package_renews_at) == (
        Package.FREE,
        None,
        None,
    )


def test_a_purchase_says_what_it_cost_in_which_currency_and_when_it_renews(
    client_for: ClientFor, clock: FakeClock
) -> None:
    studio = client_for(STUDIO)

    bought = studio.purchase(SITE, Package.PREMIUM).value
    [invoice] = studio.invoices(SITE)
    site = studio.get_site(SITE)

    assert (bought.amount_cents, bought.currency) == (11_880, "EUR")
    assert (invoice.amount_cents, invoice.currency) == (11_880, "EUR")
    assert site.package_price == YEARLY_EUR
    assert site.package_renews_at == site.package_paid_until == clock.now + timedelta(days=365)
    [listed] = [s for s in studio.iter_sites() if s.id == SITE]
    assert (listed.package_price, listed.package_renews_at) == (
        site.package_price,
        site.package_renews_at,
    )


def test_the_wire_carries_the_money_fields_as_documented(
    sandbox: ThreadedSandbox, client_for: ClientFor
) -> None:
    client_for(STUDIO).purchase(SITE, Package.PREMIUM)
    headers = {"Authorization": f"Bearer {TOKENS[STUDIO]}"}

    page = requests.get(f"{sandbox.url}/v1/sites", headers=headers, timeout=10).json()
    invoices = requests.get(f"{sandbox.url}/v1/sites/{SITE}/invoices", headers=headers, timeout=10)

    [item] = page["items"]
    assert item["package_price"] == {"amount_cents": 11880, "currency": "EUR", "period": "year"}
    assert item["package_renews_at"] == item["package_paid_until"]
    assert invoices.json()["items"][0]["currency"] == "EUR"
    openapi = requests.get(f"{sandbox.url}/openapi.json", timeout=10).json()
    schemas = openapi["components"]["schemas"]
    assert {"package_price", "package_renews_at"} <= set(schemas["Site"]["properties"])
    assert "currency" in schemas["Invoice"]["required"]
    assert "currency" in schemas["Purchase"]["required"]
    price = schemas["PackagePrice"]
    assert price["properties"]["currency"]["pattern"] == "^[A-Z]{3}$"
    assert price["properties"]["period"]["$ref"].endswith("/BillingPeriod")


def test_a_paid_package_keeps_its_price_and_renewal_through_a_handover(
    client_for: ClientFor,
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    studio.purchase(SITE, Package.PREMIUM)
    before = studio.get_site(SITE)

    anna.accept_transfer(studio.start_transfer(SITE, ANNA, True).value.id)
    after = anna.get_site(SITE)

    # It renews on the new owner's card (platform rule 6), at the same price and date.
    assert (after.owner, after.package_price, after.package_renews_at) == (
        ANNA,
        before.package_price,
        before.package_renews_at,
    )


SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
sites:
  - id: us-shop
    name: US Shop
    owner: studio@pixel.example
    package: premium
    package_paid_until: 2099-01-15T00:00:00Z
    package_price: {amount_cents: 1290, currency: USD, period: month}
  - id: eu-shop
    name: EU Shop
    owner: studio@pixel.example
    package: premium
"""


def test_a_seeded_site_may_have_its_own_price(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    with SandboxStore(tmp_path / "s.db") as store:
        seed_file(store, path)
        us, eu = store.site("us-shop"), store.site("eu-shop")

    assert us.package_price == PackagePrice(
        amount_cents=1290, currency="USD", period=BillingPeriod.MONTH
    )
    assert us.package_price.per_year_cents == 15_480
    assert us.package_renews_at == datetime(2099, 1, 15, tzinfo=UTC)
    assert eu.package_price == YEARLY_EUR  # the list price
    assert eu.package_renews_at == eu.package_paid_until


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("{amount_cents: 990, currency: EUR, period: year}", "a free package has no package_price"),
        ("{amount_cents: 990, currency: euro, period: year}", "sites[0].package_price.currency"),
        ("{amount_cents: -1, currency: EUR, period: year}", "sites[0].package_price.amount_cents"),
        ("{amount_cents: 990, currency: EUR, period: week}", "sites[0].package_price.period"),
    ],
)
def test_a_bad_seeded_price_is_explained(tmp_path: Path, price: str, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        "accounts: [{email: studio@pixel.example, kind: expert}]\n"
        "sites:\n  - {id: a-site, name: A, owner: studio@pixel.example, package: free,"
        f" package_price: {price}}}\n"
    )

    with pytest.raises(SeedError) as caught:
        load_seed(path)

    assert message in str(caught.value)


def test_reseeding_a_site_keeps_or_changes_its_price_as_the_seed_says(tmp_path: Path) -> None:
    monthly = PackagePrice(amount_cents=990, currency="GBP", period=BillingPeriod.MONTH)
    with SandboxStore(tmp_path / "s.db") as store:
        for price in (monthly, None, YEARLY_EUR):
            with store.transaction() as tx:
                tx.put_site(
                    SITE,
                    name="A",
                    owner=STUDIO,
                    billing_contact=STUDIO,
                    package=Package.PREMIUM,
                    collaborators={},
                    package_price=price,
                )
            if price is not None:
                assert store.site(SITE).package_price == price
            else:  # not named: kept as it was, and no new version
                assert store.site(SITE).package_price == monthly
                assert store.site(SITE).version == 1
        with store.transaction() as tx:
            tx.put_site(SITE, name="A", owner=STUDIO, billing_contact=STUDIO,
                        package=Package.FREE, collaborators={ANNA: Role.VIEWER})  # fmt: skip
        free = store.site(SITE)
    assert (free.package_price, free.package_renews_at) == (None, None)


def test_a_database_of_an_older_sandbox_gains_prices_and_currencies(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = sqlite3.connect(db)
    old.executescript(
        """
        CREATE TABLE sites (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL,
            billing_contact TEXT NOT NULL, package TEXT NOT NULL, package_paid_until TEXT,
            version INTEGER NOT NULL
        );
        INSERT INTO sites VALUES ('paid', 'Paid', 'studio@pixel.example',
            'studio@pixel.example', 'premium', '2099-03-01T09:00:00.000000Z', 4);
        INSERT INTO sites VALUES ('free', 'Free', 'studio@pixel.example',
            'studio@pixel.example', 'free', NULL, 1);
        CREATE TABLE invoices (
            id TEXT PRIMARY KEY, site_id TEXT NOT NULL, billed_to TEXT NOT NULL,
            package TEXT NOT NULL, amount_cents INTEGER NOT NULL, issued_at TEXT NOT NULL
        );
        INSERT INTO invoices VALUES ('in_1', 'paid', 'studio@pixel.example', 'premium',
            11880, '2026-03-01T09:00:00.000000Z');
        CREATE TABLE purchases (
            id TEXT PRIMARY KEY, site_id TEXT NOT NULL, package TEXT NOT NULL,
            amount_cents INTEGER NOT NULL, paid_by TEXT NOT NULL, invoice_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )
    old.commit()
    old.close()

    with SandboxStore(db) as store:
        paid, free = store.site("paid"), store.site("free")
        [invoice] = store.invoices_of("paid")
        with store.transaction() as tx:  # a purchase still works on the migrated tables
            tx.ensure_account(STUDIO, AccountKind.EXPERT, token="studio-token")
            tx.put_site("later", name="L", owner=STUDIO, billing_contact=STUDIO,
                        package=Package.FREE, collaborators={})  # fmt: skip
            purchase, _ = tx.purchase(STUDIO, "later", Package.PREMIUM, None)

    assert paid.package_price == YEARLY_EUR
    assert paid.package_renews_at == datetime(2099, 3, 1, 9, 0, tzinfo=UTC)
    assert (free.package_price, free.package_renews_at) == (None, None)
    assert invoice.currency == "EUR"
    assert purchase.currency == "EUR"


def test_the_models_refuse_what_is_not_money() -> None:
    base = {
        "id": "x",
        "site_id": SITE,
        "package": "premium",
        "amount_cents": 1,
        "paid_by": STUDIO,
        "invoice_id": "in_1",
        "created_at": "2026-01-01T00:00:00Z",
    }
    with pytest.raises(ValueError, match="currency"):
        Purchase.model_validate(base)
    with pytest.raises(ValueError, match="currency"):
        Invoice.model_validate({**base, "billed_to": STUDIO, "issued_at": base["created_at"]})
    site = {"id": SITE, "name": "A", "owner": STUDIO, "billing_contact": STUDIO,
            "package": "premium", "version": 1}  # fmt: skip
    with pytest.raises(ValueError, match="period"):
        Site.model_validate(
            {**site, "package_price": {"amount_cents": 1, "currency": "EUR", "period": "day"}}
        )
    # An older platform that sends no money fields still lists.
    page = SitePage.model_validate({"items": [site]})
    assert page.items[0].package_price is None


def test_a_paid_package_renews_on_the_card_of_whoever_owns_the_site_then(
    sandbox: ThreadedSandbox, client_for: ClientFor, clock: FakeClock
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    studio.purchase(SITE, Package.PREMIUM)
    first = studio.get_site(SITE)
    assert first.package_renews_at is not None
    anna.accept_transfer(studio.start_transfer(SITE, ANNA, True).value.id)

    clock.advance(days=365)  # the renewal's very moment
    renewed = anna.get_site(SITE)

    assert renewed.package_renews_at == first.package_renews_at + timedelta(days=365)
    assert renewed.package_paid_until == renewed.package_renews_at
    assert renewed.version > first.version
    [invoice] = anna.invoices(SITE)  # the renewal, on Anna's card (platform rule 6)
    assert (invoice.billed_to, invoice.amount_cents, invoice.currency) == (ANNA, 11_880, "EUR")
    assert invoice.issued_at == first.package_renews_at
    assert [i.billed_to for i in sandbox.store.invoices_of(SITE)] == [STUDIO, ANNA]


def test_a_monthly_package_renews_once_for_each_month_the_clock_passed(
    sandbox: ThreadedSandbox, client_for: ClientFor, clock: FakeClock
) -> None:
    monthly = PackagePrice(amount_cents=990, currency="GBP", period=BillingPeriod.MONTH)
    start = clock.now + timedelta(days=1)
    with sandbox.store.transaction() as tx:
        tx.put_site(SITE, name="A", owner=STUDIO, billing_contact=STUDIO,
                    package=Package.PREMIUM, collaborators={}, package_price=monthly,
                    package_paid_until=start)  # fmt: skip

    clock.advance(days=1 + 30 * 2 + 5)  # past the renewals of day 1, 31 and 61
    site = client_for(STUDIO).get_site(SITE)

    invoices = client_for(STUDIO).invoices(SITE)
    assert [(i.amount_cents, i.currency) for i in invoices] == [(990, "GBP")] * 3
    assert [i.issued_at for i in invoices] == [start + timedelta(days=30 * n) for n in range(3)]
    assert site.package_renews_at == start + timedelta(days=90)
    assert client_for(STUDIO).get_site(SITE).version == site.version  # renewed once only
