"""The client against the sandbox: reads, writes, versions, typed errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from platform_support import ANNA, BEN, STUDIO, TOKENS

from reconciler.model import BillingPeriod, Package, PackagePrice, Role
from reconciler.platform.client import WriteResult
from reconciler.platform.errors import (
    Conflict,
    NotFound,
    StaleVersion,
    Unauthorized,
)
from reconciler.platform.schema import TransferStatus, to_observed
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox


def test_me_and_one_site(studio: SandboxClient) -> None:
    assert studio.me().email == STUDIO
    site = studio.get_site("site-000")
    assert (site.owner, site.version, site.collaborators) == (STUDIO, 1, {BEN: Role.VIEWER})


def test_listing_takes_one_request_per_page(sandbox: ThreadedSandbox) -> None:
    with sandbox.store.transaction() as tx:
        tx.insert_sites(
            (f"more-{n:03d}", "More", STUDIO, STUDIO, Package.FREE, None, {}) for n in range(7)
        )
    with SandboxClient(sandbox.url, TOKENS[STUDIO]) as client:
        ids = [site.id for site in client.iter_sites(page_size=4)]
        assert ids == sorted(ids)
        assert len(ids) == 10
        assert client.stats().by_route == {"GET /v1/sites": 3}


def test_the_listing_carries_each_sites_price_and_renewal_in_its_pages(
    sandbox: ThreadedSandbox,
) -> None:
    monthly = PackagePrice(amount_cents=1290, currency="USD", period=BillingPeriod.MONTH)
    renews = datetime(2099, 1, 15, tzinfo=UTC)
    with sandbox.store.transaction() as tx:
        for n in range(7):
            tx.put_site(f"paid-{n}", name="Paid", owner=STUDIO, billing_contact=STUDIO,
                        package=Package.PREMIUM, collaborators={}, package_price=monthly,
                        package_paid_until=renews)  # fmt: skip
    with SandboxClient(sandbox.url, TOKENS[STUDIO]) as client:
        observed = [to_observed(site) for site in client.iter_sites(page_size=4)]
        requests = client.stats().by_route

    paid = [site for site in observed if site.id.startswith("paid-")]
    assert len(paid) == 7
    assert {(s.package_price, s.package_renews_at) for s in paid} == {(monthly, renews)}
    free = [site for site in observed if site.package is Package.FREE]
    assert {(s.package_price, s.package_renews_at) for s in free} == {(None, None)}
    assert requests == {"GET /v1/sites": 3}  # 10 sites, 4 a page: still one request a page


def test_writes_return_the_new_version(studio: SandboxClient) -> None:
    added = studio.put_collaborator("site-000", ANNA, Role.EDITOR, if_match=1)
    assert added == WriteResult(added.value, 2)
    assert studio.delete_collaborator("site-000", ANNA, if_match=2).version == 3
    contact = studio.set_billing_contact("site-000", "billing@pixel.example", if_match=3)
    assert (contact.value.billing_contact, contact.version) == ("billing@pixel.example", 4)
    bought = studio.purchase("site-000", Package.PREMIUM, if_match=4)
    assert (bought.value.paid_by, bought.version) == (STUDIO, 5)
    transfer = studio.start_transfer("site-000", ANNA, True, if_match=5)
    assert (transfer.value.status, transfer.version) == (TransferStatus.PENDING, 6)
    observed = to_observed(studio.get_site("site-000"))
    assert observed.pending_transfer is not None
    assert observed.pending_transfer.to == ANNA
    assert observed.package_paid_until is not None
    assert studio.cancel_transfer("site-000", transfer.value.id, if_match=6).version == 7
    assert [invoice.billed_to for invoice in studio.invoices("site-000")] == [STUDIO]


def test_the_recipient_accepts_through_the_client(
    sandbox: ThreadedSandbox, studio: SandboxClient
) -> None:
    transfer = studio.start_transfer("site-001", ANNA, False).value
    with SandboxClient(sandbox.url, TOKENS[ANNA]) as anna:
        assert anna.accept_transfer(transfer.id).value.status is TransferStatus.ACCEPTED
        assert anna.get_site("site-001").owner == ANNA
    transfer = studio.start_transfer("site-002", BEN, False).value
    with SandboxClient(sandbox.url, TOKENS[BEN]) as ben:
        assert ben.decline_transfer(transfer.id).value.status is TransferStatus.DECLINED


def test_a_stale_version_raises_stale_version(studio: SandboxClient) -> None:
    with pytest.raises(StaleVersion) as caught:
        studio.put_collaborator("site-000", ANNA, Role.EDITOR, if_match=9)
    assert caught.value.status == 412
    assert caught.value.detail is not None
    assert "is at version 1, not 9" in caught.value.detail
    assert str(caught.value).startswith("PUT /v1/sites/site-000/collaborators/")


def test_errors_are_typed_and_carry_the_problem(studio: SandboxClient) -> None:
    with pytest.raises(NotFound, match="There is no site 'nope', or you may not see it"):
        studio.get_site("nope")
    with pytest.raises(Conflict, match="the client must sign up first"):
        studio.start_transfer("site-000", "stranger@nowhere.example", True)
    studio.start_transfer("site-000", ANNA, True)
    with pytest.raises(Conflict, match="already has a pending transfer"):
        studio.start_transfer("site-000", BEN, True)


def test_an_unknown_token_is_unauthorized(sandbox: ThreadedSandbox) -> None:
    with SandboxClient(sandbox.url, "not-a-real-token") as client, pytest.raises(Unauthorized):
        client.me()


def test_a_caller_supplied_idempotency_key_makes_a_repeat_harmless(
    sandbox: ThreadedSandbox, studio: SandboxClient
) -> None:
    first = studio.purchase("site-000", Package.PREMIUM, idempotency_key="order-42")
    again = studio.purchase("site-000", Package.PREMIUM, idempotency_key="order-42")
    assert first == again
    assert len(sandbox.store.invoices_of("site-000")) == 1
