"""The listing's page is one range of an index (issue 11 item 2, DESIGN section 6).

``EXPLAIN QUERY PLAN`` shows it: the visibility filter and the order are served by the
``access`` index together (no ``MULTI-INDEX OR``, no ``TEMP B-TREE FOR ORDER BY``), so a
page costs the same at the first and the last cursor of 100,000 sites. The index is kept
by triggers; the listing must follow every change of who sees a site.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sandbox_support import ANNA, BEN, STUDIO, TOM

from reconciler.model import AccountKind, BillingPeriod, Package, Role
from reconciler.platform.schema import PackagePrice, Site, SitePage
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import LIST_PAGE_QUERY, SandboxStore, _trusted

ClientFor = Callable[[str], SandboxClient]


def plan_of(db: Path, query: str, params: tuple[object, ...]) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", params)]


def test_the_page_query_is_one_range_of_the_access_index(tmp_path: Path) -> None:
    db = tmp_path / "plan.db"
    with SandboxStore(db) as store, store.transaction() as tx:
        tx.insert_sites(
            (f"site-{n:04d}", "Site", STUDIO if n % 3 else ANNA, STUDIO, Package.FREE, None,
             {TOM: Role.VIEWER} if n % 2 else {})
            for n in range(300)
        )  # fmt: skip
    plan = plan_of(db, LIST_PAGE_QUERY, (STUDIO, "site-0100", 501))
    assert plan == [
        "SEARCH a USING PRIMARY KEY (email=? AND site_id>?)",
        "SEARCH s USING INDEX sqlite_autoindex_sites_1 (id=?)",
    ]
    collaborators = plan_of(
        db,
        "SELECT site_id, email, role FROM collaborators WHERE site_id IN (?, ?)"
        " ORDER BY site_id, email",
        ("a", "b"),
    )
    # Covering: the roles come with the index, no lookup of each row (issue 20).
    assert collaborators == [
        "SEARCH collaborators USING COVERING INDEX collaborators_by_site (site_id=?)"
    ]


def test_the_listing_follows_every_change_of_who_sees_a_site(
    sandbox: ThreadedSandbox, client_for: ClientFor
) -> None:
    studio, anna, ben = client_for(STUDIO), client_for(ANNA), client_for(BEN)

    def listed(client: SandboxClient) -> list[str]:
        return [site.id for site in client.iter_sites(page_size=1)]

    with sandbox.store.transaction() as tx:
        tx.insert_sites([("b-site", "B", STUDIO, STUDIO, Package.FREE, None, {ANNA: Role.VIEWER})])
    assert listed(studio) == ["acme-bakery", "b-site"]
    assert listed(anna) == ["b-site"]
    studio.delete_collaborator("b-site", ANNA)
    assert listed(anna) == []
    studio.put_collaborator("b-site", BEN, Role.EDITOR)
    assert listed(ben) == ["b-site"]
    # A handover in which the expert stays: the expert still sees it, as a collaborator.
    anna.accept_transfer(studio.start_transfer("acme-bakery", ANNA, True).value.id)
    assert listed(anna) == ["acme-bakery"]
    assert listed(studio) == ["acme-bakery", "b-site"]
    # The new owner removes the expert, then hands it on: each change shows at once.
    anna.delete_collaborator("acme-bakery", STUDIO)
    assert listed(studio) == ["b-site"]
    ben_transfer = anna.start_transfer("acme-bakery", BEN, False).value
    ben.accept_transfer(ben_transfer.id)
    assert listed(anna) == []
    assert listed(ben) == ["acme-bakery", "b-site"]


def test_a_database_made_before_the_access_index_lists_all_its_sites(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with SandboxStore(db) as store, store.transaction() as tx:
        tx.insert_sites([("a-site", "A", ANNA, ANNA, Package.FREE, None, {STUDIO: Role.EDITOR}),
                         ("b-site", "B", STUDIO, STUDIO, Package.FREE, None, {})])  # fmt: skip
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM access")  # as an older sandbox left it: no such rows
    with SandboxStore(db) as store, store.transaction() as tx:
        page = tx.list_sites(STUDIO, 10, None)
    assert [site.id for site in page.items] == ["a-site", "b-site"]


def test_a_page_is_built_as_model_construct_builds_it_and_validates_the_same(
    tmp_path: Path,
) -> None:
    """The listing builds its models without pydantic's per-field loop (``_trusted``,
    issue 20); what it builds is what ``model_construct`` builds, every field set, and
    what validating the page's own JSON gives back."""
    monthly = PackagePrice(amount_cents=990, currency="USD", period=BillingPeriod.MONTH)
    with SandboxStore(tmp_path / "trusted.db") as store, store.transaction() as tx:
        tx.put_site("a-paid", name="A", owner=STUDIO, billing_contact=ANNA,
                    package=Package.PREMIUM, collaborators={TOM: Role.ADMIN, BEN: Role.VIEWER},
                    package_price=monthly)  # fmt: skip
        tx.put_site("b-free", name="B", owner=ANNA, billing_contact=ANNA, package=Package.FREE,
                    collaborators={STUDIO: Role.EDITOR})  # fmt: skip
        tx.ensure_account(ANNA, AccountKind.CUSTOMER)
        tx.start_transfer(STUDIO, "a-paid", ANNA, True, None)
        page = tx.list_sites(STUDIO, 1, None)
        rest = tx.list_sites(STUDIO, 10, page.next_cursor)

    for built in (page, rest):
        assert built == SitePage.model_construct(**dict(built))
        assert built.model_fields_set == set(SitePage.model_fields)
        assert built == SitePage.model_validate_json(built.model_dump_json())
    sites = [*page.items, *rest.items]
    assert [site.id for site in sites] == ["a-paid", "b-free"]
    assert sites[0].package_price == monthly
    assert sites[0].pending_transfer is not None
    for site in sites:
        assert site == Site.model_construct(**dict(site))
        assert site.model_fields_set == set(Site.model_fields)
        assert list(dict(site)) == list(Site.model_fields)
    assert _trusted(PackagePrice, dict(monthly)) == monthly
