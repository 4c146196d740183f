"""The recipient of a pending transfer sees that transfer, not the site (DESIGN.md
section 6): its history, collaborators and billing stay with who owns or collaborates
on it, and the site answers 404 like any site the caller may not see."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from sandbox_support import ANNA, BEN, RIVAL, STUDIO, TOKENS, FakeClock

from reconciler.model import Role
from reconciler.platform.errors import NotFound
from reconciler.platform.schema import TransferDirection, TransferStatus
from reconciler.sandbox.client import SandboxClient

ClientFor = Callable[[str], SandboxClient]
Http = Callable[..., requests.Response]
SITE = "acme-bakery"
NOT_SEEN = "There is no site 'acme-bakery', or you may not see it."


def earlier_history(client_for: ClientFor, clock: FakeClock) -> str:
    """Rival declined once; a day later a handover to Anna is pending. Its id."""
    studio = client_for(STUDIO)
    client_for(RIVAL).decline_transfer(studio.start_transfer(SITE, RIVAL, False).value.id)
    clock.advance(days=1)
    return studio.start_transfer(SITE, ANNA, True).value.id


@pytest.mark.parametrize(
    "path", [f"/v1/sites/{SITE}", f"/v1/sites/{SITE}/transfers", f"/v1/sites/{SITE}/invoices"]
)
def test_the_recipient_of_a_pending_transfer_may_not_read_the_site(
    client_for: ClientFor, clock: FakeClock, http: Http, path: str
) -> None:
    earlier_history(client_for, clock)

    answer = http("GET", path, token=TOKENS[ANNA])

    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == NOT_SEEN
    assert RIVAL not in answer.text


def test_the_recipient_sees_the_transfer_in_its_own_list_and_accepts_it(
    client_for: ClientFor, clock: FakeClock
) -> None:
    transfer_id = earlier_history(client_for, clock)
    anna = client_for(ANNA)

    received = list(anna.iter_transfers(TransferDirection.RECEIVED))
    assert [(t.id, t.site_id, t.status) for t in received] == [
        (transfer_id, SITE, TransferStatus.PENDING)
    ]
    assert anna.accept_transfer(transfer_id).value.status is TransferStatus.ACCEPTED
    assert anna.get_site(SITE).owner == ANNA  # now hers: the site and its history
    assert [t.to for t in anna.site_transfers(SITE)] == [ANNA, RIVAL]


def test_the_recipient_may_decline_without_ever_seeing_the_site(
    client_for: ClientFor, clock: FakeClock
) -> None:
    anna = client_for(ANNA)
    transfer_id = earlier_history(client_for, clock)

    assert anna.decline_transfer(transfer_id).value.status is TransferStatus.DECLINED
    with pytest.raises(NotFound, match=NOT_SEEN):
        anna.get_site(SITE)


def test_a_write_by_the_recipient_on_the_site_is_404_not_403(
    client_for: ClientFor, clock: FakeClock
) -> None:
    earlier_history(client_for, clock)
    with pytest.raises(NotFound, match=NOT_SEEN):
        client_for(ANNA).put_collaborator(SITE, BEN, Role.VIEWER)


def test_a_recipient_who_collaborates_still_sees_the_site(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    studio.put_collaborator(SITE, ANNA, Role.VIEWER)
    transfer = studio.start_transfer(SITE, ANNA, True).value

    site = client_for(ANNA).get_site(SITE)

    assert site.pending_transfer == transfer
