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

from reconciler.model import Package, Role
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import LIST_PAGE_QUERY, SandboxStore

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
    assert plan == ["SEARCH access USING PRIMARY KEY (email=? AND site_id>?)"]
    loads = [
        ("SELECT * FROM sites WHERE id IN (?, ?) ORDER BY id", ("a", "b")),
        ("SELECT site_id, email, role FROM collaborators WHERE site_id IN (?, ?)"
         " ORDER BY site_id, email", ("a", "b")),
    ]  # fmt: skip
    for query, params in loads:
        assert not any(
            "TEMP B-TREE" in step or "SCAN" in step for step in plan_of(db, query, params)
        )


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
