"""The HTML page in a real browser: Debian's Chromium, driven by Playwright.

No browser download: Playwright drives the system's Chromium (``make check`` installs it
when it is missing). Without a browser this test fails, loudly, rather than skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from status_support import CARA, EXPERT, FILES, HOSTILE, RENEWS_SOON, Portfolio

from reconciler.model import DesiredSite, ObservedSite
from reconciler.reconcile.plan import build_plan
from reconciler.reconcile.status import StatusReport, build_status
from reconciler.render.status_html import as_html

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
README_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "status.png"
UPDATE_DOCS = "RECONCILER_UPDATE_DOCS"


def chromium_path() -> str:
    path = os.environ.get("RECONCILER_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail(
            "no Chromium for the browser test: install Debian's package "
            "(`apt-get install chromium`; `make check` does it) or set RECONCILER_CHROMIUM"
        )
    return path


@pytest.fixture(scope="module")
def page_file(portfolio: Portfolio) -> Path:
    out = portfolio.root / "status.html"
    result = portfolio.run("status", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        yield launched
        launched.close()


def details_of(page: Any, site_id: str) -> Any:
    """The <details> of a site's row (whose summary is the site's name)."""
    return page.locator(f'#sites tr[data-i="{site_id}"] details')


class Watched:
    """A page with every request, console error and dialog it caused."""

    def __init__(self, browser: Any, width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def details_of(self, site_id: str) -> Any:
        return details_of(self.page, site_id)

    def sort_by(self, column: str) -> None:
        """Click a column's sort button (its name gains an arrow once sorted)."""
        self.page.locator("thead button", has_text=column).click()

    def ids_shown(self) -> list[str]:
        ids: list[str] = self.page.eval_on_selector_all(
            "#sites tbody tr.on", "rows => rows.map(r => r.dataset.i)"
        )
        return ids

    def names_shown(self) -> list[str]:
        """What the Site column shows: each site's name."""
        names: list[str] = self.page.eval_on_selector_all(
            "#sites tbody tr.on",
            "rows => rows.map(r => r.querySelector('summary').textContent)",
        )
        return names


@pytest.fixture
def watched(browser: Any, page_file: Path) -> Iterator[Watched]:
    watched = Watched(browser)
    watched.page.goto(page_file.as_uri())
    yield watched
    watched.page.close()


def test_page_shows_the_totals_and_every_site(watched: Watched) -> None:
    page = watched.page

    assert page.locator('[data-total="sites"]').inner_text() == "12"
    assert page.locator('[data-total="handovers_pending"]').inner_text() == "2"
    assert page.locator('[data-total="handovers_expiring"]').inner_text() == "1"
    assert page.locator('[data-total="owned_by_expert"]').inner_text() == "9"
    assert page.locator('[data-total="unmanaged"]').inner_text() == "1"
    assert page.locator("svg[role=img] rect").count() >= 2
    names = watched.names_shown()
    assert names == sorted(names, key=str.casefold)  # the rows, by the names they show
    assert sorted(watched.ids_shown()) == sorted(FILES)
    assert page.locator("#shown").inner_text() == "12 of 12 sites shown"


def test_page_shows_what_the_expert_pays_a_year_and_what_renews_next(watched: Watched) -> None:
    page = watched.page

    # studio-site: EUR 118.80 a year; wip-site: USD 12.90 a month. stay-site's premium
    # is Anna's to pay, and the seven free sites cost nothing.
    assert page.locator('[data-total="expert_pays"]').inner_text() == "2"
    yearly = page.locator('[data-total="expert_pays_per_year"]')
    assert yearly.inner_text() == "EUR 118.80, USD 154.80"
    card = yearly.locator("xpath=..")
    assert "premium: EUR 118.80 (1 site), USD 154.80 (1 site)" in card.inner_text()
    renewal = page.locator('[data-total="expert_renews_next"]')
    assert renewal.inner_text() == f"{RENEWS_SOON:%Y-%m-%d}"
    assert (
        "Wip Site (wip-site), premium, USD 12.90 a month"
        in renewal.locator("xpath=..").inner_text()
    )
    details = watched.details_of("wip-site")
    details.locator("summary").click()
    assert f"USD 12.90 a month, renews {RENEWS_SOON:%Y-%m-%d}, paid by the expert" in (
        details.inner_text()
    )


def test_the_chart_counts_every_site_as_the_totals_do(watched: Watched) -> None:
    caption = watched.page.locator("figure figcaption").inner_text()

    # left-site was handed over and left: its client's, its package unknown to the
    # expert; drift-site's owner is unknown (the expert lost it).
    assert caption == (
        "The expert: 7 free, 2 premium, 0 unknown; Clients: 0 free, 1 premium, 1 unknown; "
        "Unknown owner: 0 free, 0 premium, 1 unknown"
    )
    texts = watched.page.eval_on_selector_all(
        "svg[role=img] > text", "texts => texts.map(t => t.textContent)"
    )
    assert sum(int(t) for t in texts if t.isdigit()) == len(FILES)  # the bars' counts


def test_the_table_names_each_site_and_its_state_is_the_jsons(
    watched: Watched, portfolio: Portfolio
) -> None:
    rows = {site["id"]: site for site in portfolio.status_json()["sites"]}
    page = watched.page

    names = dict(zip(watched.ids_shown(), watched.names_shown(), strict=True))
    assert names["studio-site"] == "Studio Site"
    assert names["hostile-site"] == HOSTILE
    assert names["drift-site"] == "drift-site"  # not visible, and its file names nothing
    states = page.eval_on_selector_all(
        "#sites tbody tr", "rows => rows.map(r => [r.dataset.i, r.cells[7].textContent.trim()])"
    )
    assert dict(states) == {i: row["state"].replace("_", " ") for i, row in rows.items()}
    studio = watched.details_of("studio-site")
    studio.locator("summary").click()
    assert "Id\nstudio-site" in studio.inner_text()


def test_sorting_and_filtering_the_table(watched: Watched) -> None:
    page = watched.page

    names = watched.names_shown()
    watched.sort_by("Site")  # by name
    assert watched.names_shown() == sorted(names, key=str.casefold)
    watched.sort_by("Site")
    assert watched.names_shown() == sorted(names, key=str.casefold, reverse=True)
    watched.sort_by("Handover")
    assert watched.ids_shown()[:2] == ["soon-site", "pending-site"]  # the soonest to expire
    ended = ["stay-site", "expired-site", "left-site", "declined-site"]  # oldest first
    assert watched.ids_shown()[2:6] == ended

    page.select_option("#owner", "client")
    assert sorted(watched.ids_shown()) == ["left-site", "stay-site"]
    page.select_option("#owner", "")
    page.check("#attention")
    attention = watched.ids_shown()
    assert "studio-site" not in attention
    assert {"pending-site", "unmanaged-site", "noaccount-site"} <= set(attention)
    page.uncheck("#attention")
    page.fill("#q", CARA.split("@")[0])
    assert sorted(watched.ids_shown()) == ["pending-site", "wip-site"]
    assert page.locator("#shown").inner_text() == "2 of 12 sites shown"
    assert watched.errors == []


def test_a_row_opens_to_its_details(watched: Watched) -> None:
    details = watched.details_of("pending-site")

    assert not details.get_attribute("open")
    assert details.get_attribute("open") is None
    details.locator("summary").click()

    assert details.get_attribute("open") == ""
    text = details.inner_text()
    assert f"to {CARA}, since" in text
    assert "waiting: handover to" in text


def test_hostile_name_shows_as_text_and_nothing_leaves_the_page(
    watched: Watched, page_file: Path
) -> None:
    page = watched.page
    hostile = watched.details_of("hostile-site")
    hostile.locator("summary").click()

    assert HOSTILE in hostile.inner_text()
    assert page.locator("img").count() == 0
    watched.sort_by("Owner")
    page.fill("#q", "img")
    assert watched.ids_shown() == ["hostile-site"]
    assert watched.dialogs == []
    assert watched.errors == []  # no script or style refused by the page's own policy
    assert watched.requests == [page_file.as_uri()]


def test_page_reads_in_a_narrow_window_and_without_javascript(
    browser: Any, page_file: Path
) -> None:
    narrow = Watched(browser, width=380)
    narrow.page.goto(page_file.as_uri())
    overflow = narrow.page.evaluate("document.documentElement.scrollWidth")
    narrow.page.close()
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(page_file.as_uri())

    assert overflow <= 380
    assert plain.locator("#sites tbody tr").count() == len(FILES)
    assert plain.locator("#filters").is_hidden()  # the controls need the script
    details_of(plain, "stay-site").locator("summary").click()
    assert "Collaborators" in details_of(plain, "stay-site").inner_text()
    context.close()


def test_screenshot_for_ci_and_the_readme(watched: Watched) -> None:
    page = watched.page
    watched.details_of("pending-site").locator("summary").click()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "status.png"

    page.screenshot(path=str(shot), full_page=True)

    assert shot.stat().st_size > 10_000
    if os.environ.get(UPDATE_DOCS):
        README_IMAGE.parent.mkdir(exist_ok=True)
        shutil.copy(shot, README_IMAGE)


def test_a_large_portfolio_shows_a_page_of_rows_at_a_time(browser: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "large.html"
    page_file.write_text(as_html(large_report(600)), encoding="utf-8")
    watched = Watched(browser)
    page = watched.page
    page.goto(page_file.as_uri())

    assert len(watched.ids_shown()) == 250
    assert page.locator("#shown").inner_text() == "Showing 250 of 600 matching sites (600 in all)"
    page.click("#more")
    assert len(watched.ids_shown()) == 500
    watched.sort_by("Site")
    watched.sort_by("Site")  # descending: the last sites come first, still 500 shown
    assert watched.ids_shown()[:2] == ["site-0599", "site-0598"]
    assert len(watched.ids_shown()) == 500
    page.click("#all")
    assert len(watched.ids_shown()) == 600
    assert page.locator("#more").is_hidden()
    page.fill("#q", "site-01")
    assert len(watched.ids_shown()) == 100
    assert page.locator("#shown").inner_text() == "100 of 600 sites shown"
    assert watched.errors == []
    page.close()


def large_report(count: int) -> StatusReport:
    now = datetime.now(UTC)
    observed = {
        f"site-{i:04d}": ObservedSite.model_validate(
            {
                "id": f"site-{i:04d}",
                "name": f"Site {i}",
                "owner": EXPERT,
                "billing_contact": EXPERT,
                "package": "free",
                "collaborators": {},
                "version": 1,
            }
        )
        for i in range(count)
    }
    desired = {i: DesiredSite(id=i, owner=EXPERT) for i in observed}
    plan = build_plan(EXPERT, desired, observed)
    return build_status(EXPERT, desired, observed, plan, now=now)
