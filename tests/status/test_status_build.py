"""The pure status builder: rows, days left and totals from desired x observed x plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.model import DesiredSite, ObservedSite, PendingTransfer, TransferRecord
from reconciler.reconcile.plan import build_plan
from reconciler.reconcile.status import build_status, days_left
from support.repo import EXPERT

ANNA = "anna@acme-bakery.example"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def want(site: str, owner: str = EXPERT) -> DesiredSite:
    return DesiredSite(id=site, owner=owner)


def have(site: str, owner: str = EXPERT, **extra: object) -> ObservedSite:
    return ObservedSite.model_validate(
        {"id": site, "name": site.title(), "owner": owner, "billing_contact": owner,
         "package": "free", "collaborators": {}, "version": 1, **extra}
    )  # fmt: skip


def status(desired: list[DesiredSite], observed: list[ObservedSite], **kw: object):  # type: ignore[no-untyped-def]
    wants, haves = {d.id: d for d in desired}, {o.id: o for o in observed}
    plan = build_plan(EXPERT, wants, haves)
    return build_status(EXPERT, wants, haves, plan, now=NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("remaining", "days"),
    [(timedelta(days=14), 14), (timedelta(days=13, hours=23), 14), (timedelta(days=2, hours=1), 3),
     (timedelta(hours=1), 1), (timedelta(0), 0), (timedelta(hours=-5), 0)],
)  # fmt: skip
def test_days_left_round_up_and_never_go_below_zero(remaining: timedelta, days: int) -> None:
    assert days_left(NOW + remaining, NOW) == days


def test_a_transfer_started_this_second_has_14_days_by_a_date_header() -> None:
    started = NOW.replace(microsecond=250_000)
    assert days_left(started + timedelta(days=14), NOW) == 14


def test_expiring_means_within_three_days_of_the_platforms_clock() -> None:
    def transfer(hours: float) -> PendingTransfer:
        return PendingTransfer(
            id=f"tr-{hours}", to=ANNA, stay_as_collaborator=True,
            created_at=NOW - timedelta(days=10), expires_at=NOW + timedelta(hours=hours),
        )  # fmt: skip

    sites = [
        have("a-site", pending_transfer=transfer(71)),
        have("b-site", pending_transfer=transfer(72)),
        have("c-site", pending_transfer=transfer(73)),
    ]
    report = status([want(s.id, ANNA) for s in sites], sites)

    assert report.totals.handovers_pending == 3
    assert report.totals.handovers_expiring == 2
    assert [s.pending_transfer.days_left for s in report.sites if s.pending_transfer] == [3, 3, 4]


def record(site: str, status: str, ended: datetime | None, to: str = ANNA) -> TransferRecord:
    return TransferRecord(
        id=f"tr-{site}-{status}", site_id=site, from_owner=EXPERT, to=to,
        stay_as_collaborator=False, status=status, created_at=NOW - timedelta(days=40),
        expires_at=NOW - timedelta(days=26), ended_at=ended,
    )  # fmt: skip


def ended(status: str, days_ago: float) -> dict[str, object]:
    return {
        "id": "tr-1", "to": ANNA, "stay_as_collaborator": True, "status": status,
        "created_at": NOW - timedelta(days=40), "ended_at": NOW - timedelta(days=days_ago),
    }  # fmt: skip


def test_a_site_the_expert_left_is_owned_by_the_recipient_of_its_last_handover() -> None:
    sent = [
        record("left-site", "declined", NOW - timedelta(days=20), to="bob@bobs-shop.example"),
        record("left-site", "accepted", NOW - timedelta(days=2)),
        record("left-site", "pending", None),
        record("visible", "accepted", NOW),  # the site's own last_transfer counts instead
    ]

    report = status([want("left-site", ANNA), want("visible")], [have("visible")], sent=sent)

    left, visible = report.sites
    assert (left.owner, left.paid_by, left.package, left.billing_contact) == (
        ANNA,
        "client",
        None,
        None,
    )
    assert left.last_transfer is not None
    assert left.last_transfer.status == "accepted"
    assert visible.last_transfer is None
    assert report.totals.owned_by_clients == 1
    assert report.totals.handovers_ended_30d["accepted"] == 1


def test_handovers_ended_count_only_the_last_30_days() -> None:
    sites = [
        have("a-site", last_transfer=ended("declined", 29)),
        have("b-site", last_transfer=ended("expired", 31)),
        have("c-site", last_transfer=ended("expired", 1)),
    ]
    report = status([want(s.id) for s in sites], sites)

    assert report.totals.handovers_ended_30d == {
        "accepted": 0, "declined": 1, "cancelled": 0, "expired": 1,
    }  # fmt: skip
    assert report.sites[1].last_transfer is not None  # still shown on its row
    assert report.sites[1].last_transfer.status == "expired"


def test_a_site_is_in_sync_only_with_a_file_no_change_and_nothing_to_do() -> None:
    report = status(
        [want("same"), want("handover", ANNA), want("gone")],
        [have("same"), have("handover"), have("unmanaged")],
    )
    rows = {row.id: row for row in report.sites}

    assert rows["same"].in_sync is True
    assert rows["handover"].in_sync is False  # the plan would start the transfer
    assert [c.action.value for c in rows["handover"].planned] == ["transfer.start"]
    assert rows["gone"].in_sync is False  # a file for a site the expert cannot see
    assert (rows["unmanaged"].managed, rows["unmanaged"].in_sync) == (False, False)
    assert report.totals.expert_pays == {"premium": 0}  # free sites are not paid for
    assert (report.totals.expert_pays_per_year, report.totals.expert_renews_next) == ((), None)
    assert (report.totals.managed, report.totals.unmanaged) == (3, 1)


def test_the_json_leaves_out_what_only_the_pages_show() -> None:
    report = status([want("handover", ANNA)], [have("handover")])

    data = report.model_dump(mode="json")
    assert "planned" not in data["sites"][0]
    assert set(data) == {"format_version", "sites", "totals"}


def paid(
    site: str,
    owner: str = EXPERT,
    *,
    cents: int,
    currency: str = "EUR",
    period: str = "year",
    renews: datetime | None = None,
) -> ObservedSite:
    price = {"amount_cents": cents, "currency": currency, "period": period}
    return have(site, owner, package="premium", package_paid_until=renews,
                package_renews_at=renews, package_price=price)  # fmt: skip


def test_the_expert_pays_a_year_by_currency_and_package_only_for_its_own_paid_sites() -> None:
    sites = [
        paid("a-site", cents=11_880, renews=NOW + timedelta(days=90)),
        paid("b-site", cents=990, period="month", renews=NOW + timedelta(days=9)),
        paid("c-site", cents=1290, currency="USD", period="month", renews=NOW + timedelta(days=40)),
        paid("d-site", ANNA, cents=50_000, renews=NOW + timedelta(days=1)),  # Anna's card
        have("e-site"),  # free: costs nothing
    ]
    report = status([want(s.id, s.owner) for s in sites], sites)

    totals = report.totals
    assert totals.expert_pays == {"premium": 3}
    assert [c.model_dump() for c in totals.expert_pays_per_year] == [
        {"package": "premium", "currency": "EUR", "amount_cents": 11_880 + 12 * 990, "sites": 2},
        {"package": "premium", "currency": "USD", "amount_cents": 12 * 1290, "sites": 1},
    ]
    assert totals.expert_renews_next is not None
    assert (totals.expert_renews_next.site, totals.expert_renews_next.amount_cents) == (
        "b-site",
        990,
    )
    assert totals.expert_renews_next.renews_at == NOW + timedelta(days=9)


def test_the_next_renewal_is_not_one_already_past_and_ties_go_by_id() -> None:
    soon = NOW + timedelta(days=3)
    sites = [
        paid("z-site", cents=100, renews=soon),
        paid("m-site", cents=100, renews=soon),
        paid("a-site", cents=100, renews=NOW - timedelta(seconds=1)),  # past: not "next"
    ]
    report = status([want(s.id) for s in sites], sites)

    assert report.totals.expert_renews_next is not None
    assert report.totals.expert_renews_next.site == "m-site"


def test_a_paid_package_whose_price_the_platform_does_not_say_still_counts_as_paid() -> None:
    site = have("a-site", package="premium")
    report = status([want("a-site")], [site])

    assert report.totals.expert_pays == {"premium": 1}
    assert report.totals.expert_pays_per_year == ()
    assert report.totals.expert_renews_next is None


def test_each_site_has_one_state_word_the_most_pressing_first() -> None:
    report = status(
        [want("same"), want("handover", ANNA), want("gone")],
        [have("same"), have("handover"), have("unmanaged")],
    )

    states = {row.id: row.state for row in report.sites}
    assert states == {
        "same": "in_sync", "handover": "changes", "gone": "missing", "unmanaged": "unmanaged",
    }  # fmt: skip
