"""`reconciler status` on a portfolio with every kind of site, checked against the sandbox."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from status_support import (
    ANNA,
    BOB,
    CARA,
    DORA,
    EXPERT,
    FAY,
    FILES,
    GUS,
    HOSTILE,
    PAID_UNTIL,
    RENEWS_SOON,
    Portfolio,
    build_portfolio,
)

from reconciler.cli import cli
from reconciler.render.status import CSV_COLUMNS
from reconciler.sandbox.server import ThreadedSandbox

SITE_FIELDS = [
    "id", "name", "owner", "desired_owner", "billing_contact", "paid_by", "package",
    "package_paid_until", "package_price", "package_renews_at", "collaborators",
    "pending_transfer", "last_transfer", "managed", "in_sync", "state", "notes",
]  # fmt: skip
TOTAL_FIELDS = [
    "sites", "managed", "unmanaged", "owned_by_expert", "owned_by_clients", "expert_pays",
    "expert_pays_per_year", "expert_renews_next", "handovers_pending", "handovers_expiring",
    "handovers_ended_30d", "waiting", "blocked", "drift",
]  # fmt: skip
STATES = {
    "studio-site": "in_sync", "wip-site": "in_sync", "stay-site": "in_sync",
    "left-site": "in_sync", "pending-site": "waiting", "soon-site": "waiting",
    "declined-site": "blocked", "expired-site": "blocked", "noaccount-site": "blocked",
    "drift-site": "drift", "hostile-site": "in_sync", "unmanaged-site": "unmanaged",
}  # fmt: skip


def test_json_has_exactly_the_fields_of_the_contract(portfolio: Portfolio) -> None:
    report = portfolio.status_json()

    assert list(report) == ["format_version", "sites", "totals"]
    assert report["format_version"] == 1
    assert [site["id"] for site in report["sites"]] == sorted(FILES)
    for site in report["sites"]:
        assert list(site) == SITE_FIELDS
        if site["pending_transfer"] is not None:
            assert list(site["pending_transfer"]) == ["to", "created_at", "expires_at", "days_left"]
        for note in site["notes"]:
            assert list(note) == ["kind", "message"]
    assert list(report["totals"]) == TOTAL_FIELDS


def test_every_visible_site_shows_what_the_platform_holds(portfolio: Portfolio) -> None:
    rows = {site["id"]: site for site in portfolio.status_json()["sites"]}

    for site_id, held in portfolio.platform_sites():
        row = rows[site_id]
        visible = held.owner == EXPERT or EXPERT in held.collaborators
        if not visible:
            continue
        assert row["owner"] == held.owner
        assert row["billing_contact"] == held.billing_contact
        assert row["paid_by"] == ("expert" if held.owner == EXPERT else "client")
        assert row["package"] == held.package.value
        price = held.package_price
        assert row["package_price"] == (None if price is None else price.model_dump(mode="json"))
        renews = row["package_renews_at"]
        assert (None if renews is None else datetime.fromisoformat(renews)) == (
            held.package_renews_at
        )
        assert row["collaborators"] == {e: r.value for e, r in held.collaborators.items()}
        pending = held.pending_transfer
        if pending is None:
            assert row["pending_transfer"] is None
        else:
            assert row["pending_transfer"]["to"] == pending.to
            expires = datetime.fromisoformat(row["pending_transfer"]["expires_at"])
            assert expires == pending.expires_at
        assert row["managed"] is (FILES[site_id] is not None)


def test_totals_add_up_to_the_sandbox(portfolio: Portfolio) -> None:
    report = portfolio.status_json()
    totals = report["totals"]
    held = dict(portfolio.platform_sites())
    visible = {i for i, s in held.items() if s.owner == EXPERT or EXPERT in s.collaborators}

    assert totals["sites"] == len(FILES) == 12
    assert totals["managed"] == 11
    assert totals["unmanaged"] == 1
    assert totals["owned_by_expert"] == sum(1 for s in held.values() if s.owner == EXPERT) == 9
    clients = sum(1 for i in visible if held[i].owner != EXPERT)  # stay-site
    assert totals["owned_by_clients"] == clients + 1 == 2  # and left-site, by its transfer
    # Only paid packages: the expert's 7 free sites cost nothing; stay-site is premium
    # on Anna's card, not the expert's.
    assert totals["expert_pays"] == {"premium": 2}
    yearly: Counter[tuple[str, str]] = Counter()
    for site in held.values():
        if site.owner == EXPERT and site.package_price is not None:
            yearly[(site.package_price.currency, site.package.value)] += (
                site.package_price.per_year_cents
            )
    assert yearly == {("EUR", "premium"): 11_880, ("USD", "premium"): 12 * 1290}
    assert totals["expert_pays_per_year"] == [
        {"package": "premium", "currency": "EUR", "amount_cents": 11_880, "sites": 1},
        {"package": "premium", "currency": "USD", "amount_cents": 15_480, "sites": 1},
    ]
    renews = totals["expert_renews_next"]
    assert datetime.fromisoformat(renews.pop("renews_at")) == RENEWS_SOON
    assert renews == {
        "site": "wip-site", "name": "Wip Site", "package": "premium", "amount_cents": 1290,
        "currency": "USD", "period": "month",
    }  # fmt: skip
    pending = [s.pending_transfer for s in held.values() if s.pending_transfer is not None]
    assert totals["handovers_pending"] == len(pending) == 2
    assert totals["handovers_expiring"] == 1  # soon-site: started 12 days ago
    assert totals["waiting"] == 2
    # declined-site and expired-site are not asked again; the platform's dry run refuses
    # noaccount-site's handover (the client has no account)
    assert totals["blocked"] == 3
    assert totals["drift"] == 1  # drift-site: its client removed the expert
    ended = {i: s.last_transfer for i, s in held.items() if i in visible and s.last_transfer}
    assert sorted(t.status.value for t in ended.values()) == ["accepted", "declined", "expired"]
    # left-site was accepted 5 days ago (the sent transfers say so: the expert left);
    # stay-site 40 days ago: finished, but not within the last 30 days
    assert totals["handovers_ended_30d"] == {
        "accepted": 1, "declined": 1, "cancelled": 0, "expired": 1,
    }  # fmt: skip


def test_each_kind_of_site_reads_as_a_user_expects(portfolio: Portfolio) -> None:
    rows = {site["id"]: site for site in portfolio.status_json()["sites"]}

    studio = rows["studio-site"]
    assert (studio["owner"], studio["paid_by"], studio["package"]) == (EXPERT, "expert", "premium")
    assert datetime.fromisoformat(studio["package_paid_until"]) == PAID_UNTIL
    assert studio["in_sync"] is True
    stay = rows["stay-site"]
    assert (stay["owner"], stay["paid_by"]) == (ANNA, "client")
    assert stay["collaborators"] == {EXPERT: "editor"}
    assert stay["in_sync"] is True
    pending = rows["pending-site"]
    assert pending["pending_transfer"]["to"] == CARA
    assert pending["pending_transfer"]["days_left"] == 13
    assert [n["kind"] for n in pending["notes"]] == ["waiting"]
    assert pending["in_sync"] is False
    assert rows["soon-site"]["pending_transfer"]["days_left"] == 2
    assert rows["soon-site"]["pending_transfer"]["to"] == GUS
    declined = rows["declined-site"]["last_transfer"]
    assert (declined["to"], declined["status"]) == (DORA, "declined")
    assert rows["expired-site"]["last_transfer"]["status"] == "expired"
    assert rows["stay-site"]["last_transfer"]["status"] == "accepted"
    assert [n["kind"] for n in rows["declined-site"]["notes"]] == ["blocked"]
    assert "declined the handover on" in rows["declined-site"]["notes"][0]["message"]
    assert [n["kind"] for n in rows["drift-site"]["notes"]] == ["drift"]
    assert rows["drift-site"]["owner"] is None  # the expert cannot see it
    assert rows["drift-site"]["desired_owner"] == FAY
    left = rows["left-site"]
    assert (left["owner"], left["paid_by"], left["package"]) == (BOB, "client", None)
    assert (left["last_transfer"]["status"], left["last_transfer"]["to"]) == ("accepted", BOB)
    assert [n["kind"] for n in left["notes"]] == ["info"]
    assert left["in_sync"] is True  # handed over and left, as the file says
    assert {site_id: row["state"] for site_id, row in rows.items()} == STATES
    assert rows["stay-site"]["package_price"] == {
        "amount_cents": 11880, "currency": "EUR", "period": "year",
    }  # fmt: skip
    assert rows["pending-site"]["package_price"] is None
    assert rows["pending-site"]["package_renews_at"] is None
    unmanaged = rows["unmanaged-site"]
    assert (unmanaged["managed"], unmanaged["desired_owner"]) == (False, None)
    assert [n["kind"] for n in unmanaged["notes"]] == ["unmanaged"]
    assert rows["hostile-site"]["name"] == HOSTILE
    noaccount = rows["noaccount-site"]
    assert noaccount["in_sync"] is False
    refused = [n["message"] for n in noaccount["notes"] if n["kind"] == "blocked"]
    assert len(refused) == 1
    assert "There is no account for new@no-account.example" in refused[0]


def test_status_never_writes_to_the_platform(portfolio: Portfolio) -> None:
    before = dict(portfolio.platform_sites())
    for output_format in ("text", "json", "csv", "html"):
        assert portfolio.run("status", "--format", output_format).exit_code == 0

    after = dict(portfolio.platform_sites())
    assert {i: s.version for i, s in after.items()} == {i: s.version for i, s in before.items()}


def test_csv_has_one_row_per_site_with_the_scalar_fields(portfolio: Portfolio) -> None:
    result = portfolio.run("status", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == len(FILES)
    assert by_id["wip-site"]["collaborators"] == "1"
    assert by_id["pending-site"]["pending_to"] == CARA
    assert datetime.fromisoformat(by_id["pending-site"]["pending_expires_at"])
    assert by_id["studio-site"]["package"] == "premium"
    wip = by_id["wip-site"]
    assert (wip["package_price_cents"], wip["package_price_currency"]) == ("1290", "USD")
    assert wip["package_price_period"] == "month"
    assert datetime.fromisoformat(wip["package_renews_at"]) == RENEWS_SOON
    assert by_id["pending-site"]["package_price_cents"] == ""
    assert {site_id: row["state"] for site_id, row in by_id.items()} == STATES
    assert by_id["unmanaged-site"]["managed"] == "false"
    assert by_id["hostile-site"]["name"] == HOSTILE


def test_csv_defuses_text_a_spreadsheet_would_run(tmp_path: Path) -> None:
    portfolio = build_portfolio(tmp_path)
    with portfolio.store() as store, store.transaction() as tx:
        site = tx.load_site("wip-site")
        tx.put_site(
            "wip-site",
            name="=HYPERLINK(1)",
            owner=site.owner,
            billing_contact=site.billing_contact,
            package=site.package,
            collaborators=site.collaborators,
        )

    result = portfolio.run("status", "--format", "csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["wip-site"]["name"] == "'=HYPERLINK(1)"


def test_text_shows_totals_first_then_a_row_per_site(portfolio: Portfolio) -> None:
    result = portfolio.run("status")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Portfolio of {EXPERT} as of ")
    assert lines[1] == "Sites:       12 (11 managed, 1 unmanaged)"
    assert lines[3] == "Expert pays: premium 2: EUR 118.80, USD 154.80 a year"
    assert lines[4] == (
        f"Renews next: {RENEWS_SOON:%Y-%m-%d} Wip Site (wip-site), premium, USD 12.90 a month"
    )
    assert lines[5] == "Handovers:   2 pending, 1 expiring within 3 days"
    assert lines[6].startswith("Ended (30d): accepted ")
    assert lines[7].startswith(f"Attention:   2 waiting (on {CARA}: 1, {GUS}: 1)")
    header = next(i for i, line in enumerate(lines) if line.startswith("SITE "))
    table = lines[header + 1 : header + 1 + len(FILES)]
    assert [line.split()[0] for line in table] == sorted(FILES)
    assert "\x1b[" not in result.stdout  # no colour outside a terminal
    pending = next(line for line in table if line.startswith("pending-site"))
    assert "13 days left: cara@" in pending
    assert pending.rstrip().endswith("waiting")


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_text_fits_the_terminal_width(portfolio: Portfolio, columns: str) -> None:
    from click.testing import CliRunner

    from reconciler.cli import cli

    result = CliRunner().invoke(
        cli, ["--root", str(portfolio.root), "status"], env={"COLUMNS": columns, "NO_COLOR": "1"}
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("SITE "))
    table = lines[header : header + 1 + len(FILES)]
    widest = max(len(line) for line in table)
    if columns != "200":
        assert widest <= int(columns) + 20  # the fixed columns alone need about 80
    assert widest <= max(int(columns), 80)


def test_out_writes_the_chosen_format_to_a_file(portfolio: Portfolio, tmp_path: Path) -> None:
    out = tmp_path / "status.csv"

    result = portfolio.run("status", "--format", "csv", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"Wrote the status (csv, 12 sites) to {out}." in result.stderr
    assert out.read_text(encoding="utf-8").startswith("id,name,owner,")


def test_out_into_a_missing_folder_is_an_error_with_the_reason(
    portfolio: Portfolio, tmp_path: Path
) -> None:
    out = tmp_path / "no-such-folder" / "status.html"

    result = portfolio.run("status", "--format", "html", "--out", str(out))

    assert result.exit_code == 1
    assert f"error: cannot write {out}: No such file or directory" in result.stderr


def test_status_without_a_platform_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "expert: studio@pixel.example\nplatform:\n  url: http://127.0.0.1:9\n  token_env: T\n"
    )
    from click.testing import CliRunner

    from reconciler.cli import cli

    result = CliRunner().invoke(cli, ["--root", str(tmp_path), "status"], env={"T": "x" * 12})

    assert result.exit_code == 1
    assert "error:" in result.stderr
    assert "Traceback" not in result.output


def test_days_left_count_from_the_platforms_clock(tmp_path: Path) -> None:
    portfolio = build_portfolio(tmp_path)
    assert portfolio.run("status").exit_code == 0  # the embedded sandbox exists now

    moved = portfolio.run("sandbox", "clock", "advance", "10", "--db", str(portfolio.db))
    assert moved.exit_code == 0, moved.output
    report = portfolio.status_json()

    rows = {site["id"]: site for site in report["sites"]}
    assert rows["pending-site"]["pending_transfer"]["days_left"] == 3
    assert rows["soon-site"]["pending_transfer"] is None  # it expired on the platform
    assert rows["soon-site"]["last_transfer"]["status"] == "expired"
    assert report["totals"]["handovers_pending"] == 1
    assert report["totals"]["handovers_expiring"] == 1
    assert report["totals"]["handovers_ended_30d"]["expired"] == 2


def test_what_renews_next_moves_on_once_the_platform_renewed_it(tmp_path: Path) -> None:
    portfolio = build_portfolio(tmp_path)
    assert portfolio.run("status").exit_code == 0  # the embedded sandbox exists now

    moved = portfolio.run("sandbox", "clock", "advance", "25", "--db", str(portfolio.db))
    assert moved.exit_code == 0, moved.output
    totals = portfolio.status_json()["totals"]

    # wip-site's month ended 5 days ago: renewed on the expert's card, for a month more
    renews = totals["expert_renews_next"]
    assert renews["site"] == "wip-site"
    assert datetime.fromisoformat(renews["renews_at"]) == RENEWS_SOON + timedelta(days=30)
    assert [cost["amount_cents"] for cost in totals["expert_pays_per_year"]] == [11_880, 15_480]
    with portfolio.store() as store:
        assert [i.amount_cents for i in store.invoices_of("wip-site")] == [1290]


def test_days_left_and_notes_are_those_of_the_plan(portfolio: Portfolio) -> None:
    plan = portfolio.run("plan", "--format", "json")
    report = portfolio.status_json()

    planned = json.loads(plan.stdout)["notes"]
    rows = {site["id"]: site for site in report["sites"]}
    for note in planned:
        assert {"kind": note["kind"], "message": note["message"]} in rows[note["site"]]["notes"]
        if note.get("code") == "handover.pending":
            pending = rows[note["site"]]["pending_transfer"]
            assert pending["days_left"] == note["data"]["days_left"]
    assert sum(len(site["notes"]) for site in report["sites"]) == len(planned)


def test_status_asks_the_platform_exactly_what_plan_asks(tmp_path: Path) -> None:
    portfolio = build_portfolio(tmp_path)
    config = portfolio.root / "reconciler.yaml"
    with ThreadedSandbox(portfolio.db) as platform:
        config.write_text(
            f"expert: {EXPERT}\nplatform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n"
        )
        env = {"SANDBOX_TOKEN": platform.store.token_for(EXPERT), "NO_COLOR": "1"}

        def requests_of(*args: str) -> Counter[str]:
            before = Counter(_stats(platform.url)["by_route"])
            result = CliRunner().invoke(cli, ["--root", str(portfolio.root), *args], env=env)
            assert result.exit_code in (0, 2), result.output
            return Counter(_stats(platform.url)["by_route"]) - before

        planned = requests_of("plan")
        shown = requests_of("status", "--format", "html")

    assert shown == planned
    assert planned["GET /v1/sites"] == 1  # one page of sites
    assert planned["GET /v1/transfers"] == 1  # the sent transfers: left-site is not visible
    assert sum(n for route, n in planned.items() if route.startswith(("PUT", "DELETE"))) == 0


def _stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=10) as answer:
        data: dict[str, Any] = json.load(answer)
        return data
