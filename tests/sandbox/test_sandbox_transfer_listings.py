"""The transfers listings (DESIGN section 6): every transfer of a site, and the caller's
sent or received transfers, newest first, paginated; over real HTTP through the client.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from sandbox_support import ANNA, BEN, RIVAL, STUDIO, TOKENS, FakeClock

from reconciler.model import Package, TransferRecord, TransferStatus
from reconciler.platform.errors import NotFound
from reconciler.platform.schema import TransferDirection, to_record
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox

ClientFor = Callable[[str], SandboxClient]
Http = Callable[..., requests.Response]
SITE = "acme-bakery"


def hand_over_and_leave(client_for: ClientFor, clock: FakeClock) -> str:
    """Decline once, then a handover without stay: the studio can no longer see the site."""
    studio, anna = client_for(STUDIO), client_for(ANNA)
    anna.decline_transfer(studio.start_transfer(SITE, ANNA, True).value.id)
    clock.advance(days=1)
    accepted = studio.start_transfer(SITE, ANNA, False).value
    clock.advance(days=1)
    anna.accept_transfer(accepted.id)
    return accepted.id


def test_sent_transfers_include_sites_the_sender_no_longer_sees(
    client_for: ClientFor, clock: FakeClock
) -> None:
    accepted_id = hand_over_and_leave(client_for, clock)
    studio = client_for(STUDIO)
    with pytest.raises(NotFound):
        studio.get_site(SITE)
    sent = [to_record(t) for t in studio.iter_transfers(TransferDirection.SENT)]
    assert [(r.site_id, r.to, r.status) for r in sent] == [
        (SITE, ANNA, TransferStatus.ACCEPTED),  # newest first
        (SITE, ANNA, TransferStatus.DECLINED),
    ]
    newest = sent[0]
    assert newest == TransferRecord(
        id=accepted_id,
        site_id=SITE,
        from_owner=STUDIO,
        to=ANNA,
        stay_as_collaborator=False,
        status=TransferStatus.ACCEPTED,
        created_at=clock.now.replace(day=2),
        expires_at=clock.now.replace(day=16),
        ended_at=clock.now,
    )
    received = list(client_for(ANNA).iter_transfers(TransferDirection.RECEIVED))
    assert [t.id for t in received] == [t.id for t in sent]
    assert list(client_for(ANNA).iter_transfers(TransferDirection.SENT)) == []


def test_a_sites_transfers_are_listed_newest_first_to_who_sees_it(
    client_for: ClientFor, clock: FakeClock
) -> None:
    hand_over_and_leave(client_for, clock)
    anna = client_for(ANNA)
    statuses = [t.status for t in anna.site_transfers(SITE)]
    assert statuses == [TransferStatus.ACCEPTED, TransferStatus.DECLINED]
    # The former owner reads how it ended from its sent transfers, not the site's: 404.
    with pytest.raises(NotFound, match="There is no site 'acme-bakery', or you may not see it"):
        client_for(STUDIO).site_transfers(SITE)
    with pytest.raises(NotFound):
        client_for(RIVAL).site_transfers(SITE)


def test_the_sent_listing_pages_with_one_request_per_page(
    sandbox: ThreadedSandbox, client_for: ClientFor, clock: FakeClock
) -> None:
    studio = client_for(STUDIO)
    with sandbox.store.transaction() as tx:
        tx.insert_sites(
            (f"site-{n}", f"Site {n}", STUDIO, STUDIO, Package.FREE, None, {}) for n in range(7)
        )
    started = []
    for n in range(7):
        clock.advance(minutes=1)
        started.append(studio.start_transfer(f"site-{n}", BEN if n % 2 else ANNA, True).value.id)
    before = studio.stats().by_route.get("GET /v1/transfers", 0)
    listed = [t.id for t in studio.iter_transfers(page_size=3)]
    assert listed == started[::-1]
    assert studio.stats().by_route["GET /v1/transfers"] - before == 3  # 3 + 3 + 1
    received = [t.id for t in client_for(BEN).iter_transfers(TransferDirection.RECEIVED, 2)]
    assert received == [started[5], started[3], started[1]]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", "query.direction: Field required"),
        ("?direction=sideways", "query.direction: Input should be 'sent' or 'received'"),
        ("?direction=sent&limit=501", "query.limit: Input should be less than or equal to 500"),
        ("?direction=sent&cursor=garbage", "The cursor is not one this API gave out"),
    ],
)
def test_bad_listing_requests_are_422(http: Http, query: str, detail: str) -> None:
    response = http("GET", "/v1/transfers" + query, token=TOKENS[STUDIO])
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_a_sites_cursor_is_no_transfers_cursor(client_for: ClientFor, http: Http) -> None:
    client_for(STUDIO).start_transfer(SITE, ANNA, True)
    after_a_site = "YWZ0ZXI6YQ"  # what /v1/sites gives out: "after:a"
    response = http("GET", f"/v1/transfers?direction=sent&cursor={after_a_site}", TOKENS[STUDIO])
    assert response.status_code == 422
    assert "The cursor is not one this API gave out" in response.json()["detail"]
