"""The platform rules of DESIGN.md section 2, over real HTTP against the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sandbox_support import ANNA, BEN, RIVAL, STUDIO, TOM, FakeClock

from reconciler.model import Package, Role
from reconciler.platform.errors import BadRequest, Conflict, Forbidden, NotFound
from reconciler.platform.schema import TransferDirection, TransferStatus
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox

ClientFor = Callable[[str], SandboxClient]
SITE = "acme-bakery"


# -- collaborators (rules 3, 8, 9) --


def test_owner_adds_and_changes_a_collaborator(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    added = studio.put_collaborator(SITE, "Freda@Freelance.example", Role.EDITOR)
    assert added.value.collaborators["freda@freelance.example"] is Role.EDITOR
    assert added.version == 2
    changed = studio.put_collaborator(SITE, TOM, Role.EDITOR)
    assert changed.value.collaborators[TOM] is Role.EDITOR
    assert changed.version == 3


def test_owner_removes_a_collaborator(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    removed = studio.delete_collaborator(SITE, TOM)
    assert removed.version == 2
    assert TOM not in studio.get_site(SITE).collaborators


def test_removing_someone_who_is_not_a_collaborator_is_404(client_for: ClientFor) -> None:
    with pytest.raises(NotFound) as caught:
        client_for(STUDIO).delete_collaborator(SITE, BEN)
    assert f"{BEN} is not a collaborator" in str(caught.value)


def test_editor_cannot_manage_collaborators(client_for: ClientFor) -> None:
    client_for(STUDIO).put_collaborator(SITE, ANNA, Role.EDITOR)
    with pytest.raises(Forbidden) as caught:
        client_for(ANNA).put_collaborator(SITE, BEN, Role.VIEWER)
    assert caught.value.status == 403
    assert caught.value.detail == (
        f"Only the owner of site '{SITE}', {STUDIO}, or an admin collaborator "
        "can manage collaborators."
    )


def test_admin_manages_collaborators_but_nothing_else(client_for: ClientFor) -> None:
    client_for(STUDIO).put_collaborator(SITE, ANNA, Role.ADMIN)
    anna = client_for(ANNA)
    assert anna.put_collaborator(SITE, TOM, Role.EDITOR).value.collaborators[TOM] is Role.EDITOR
    anna.delete_collaborator(SITE, TOM)
    refusals: list[Callable[[], object]] = [
        lambda: anna.set_billing_contact(SITE, ANNA),
        lambda: anna.purchase(SITE, Package.PREMIUM),
        lambda: anna.start_transfer(SITE, ANNA, False),
        lambda: anna.invoices(SITE),
    ]
    for refused in refusals:
        with pytest.raises(Forbidden) as caught:
            refused()
        assert f"Only the owner of site '{SITE}', {STUDIO}, can" in str(caught.value)
    site = client_for(STUDIO).get_site(SITE)
    assert (site.owner, site.billing_contact, site.package) == (STUDIO, STUDIO, Package.FREE)


def test_the_owner_cannot_be_a_collaborator(client_for: ClientFor) -> None:
    with pytest.raises(Conflict, match="cannot also be a collaborator"):
        client_for(STUDIO).put_collaborator(SITE, STUDIO, Role.EDITOR)


def test_a_free_site_refuses_a_third_collaborator(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    studio.put_collaborator(SITE, ANNA, Role.EDITOR)
    with pytest.raises(Conflict) as caught:
        studio.put_collaborator(SITE, BEN, Role.VIEWER)
    assert "free package, which allows at most 2 collaborators" in str(caught.value)
    # Changing the role of someone already counted is not "one more".
    assert studio.put_collaborator(SITE, ANNA, Role.ADMIN).value.collaborators[ANNA] is Role.ADMIN
    assert set(studio.get_site(SITE).collaborators) == {TOM, ANNA}


def test_a_premium_site_allows_ten_collaborators(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    studio.purchase(SITE, Package.PREMIUM)
    for n in range(9):
        studio.put_collaborator(SITE, f"helper{n}@freelance.example", Role.VIEWER)
    assert len(studio.get_site(SITE).collaborators) == 10
    with pytest.raises(Conflict, match="at most 10 collaborators"):
        studio.put_collaborator(SITE, "one-more@freelance.example", Role.VIEWER)


def test_a_malformed_collaborator_address_is_422(client_for: ClientFor) -> None:
    with pytest.raises(BadRequest, match="not a valid e-mail address"):
        client_for(STUDIO).put_collaborator(SITE, "not-an-address", Role.VIEWER)


# -- visibility and isolation (rule 8, section 6) --


def test_another_expert_cannot_see_or_change_the_site(client_for: ClientFor) -> None:
    rival = client_for(RIVAL)
    assert list(rival.iter_sites()) == []
    attempts: list[Callable[[], object]] = [
        lambda: rival.get_site(SITE),
        lambda: rival.put_collaborator(SITE, RIVAL, Role.ADMIN),
        lambda: rival.delete_collaborator(SITE, TOM),
        lambda: rival.set_billing_contact(SITE, RIVAL),
        lambda: rival.start_transfer(SITE, RIVAL, False),
        lambda: rival.purchase(SITE, Package.PREMIUM),
        lambda: rival.invoices(SITE),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound) as caught:
            attempt()
        assert caught.value.detail == f"There is no site '{SITE}', or you may not see it."
    assert client_for(STUDIO).get_site(SITE).version == 1


def test_a_missing_site_and_a_hidden_site_answer_the_same(client_for: ClientFor) -> None:
    rival = client_for(RIVAL)
    with pytest.raises(NotFound) as hidden:
        rival.get_site(SITE)
    with pytest.raises(NotFound) as missing:
        rival.get_site("no-such-site")
    assert str(hidden.value).replace(SITE, "x") == str(missing.value).replace("no-such-site", "x")


def test_collaborators_see_the_site_but_may_not_change_billing(client_for: ClientFor) -> None:
    client_for(STUDIO).put_collaborator(SITE, ANNA, Role.EDITOR)
    anna = client_for(ANNA)
    assert [site.id for site in anna.iter_sites()] == [SITE]
    with pytest.raises(Forbidden, match="can change the billing contact"):
        anna.set_billing_contact(SITE, ANNA)


# -- billing contact --


def test_owner_sets_the_billing_contact(client_for: ClientFor) -> None:
    written = client_for(STUDIO).set_billing_contact(SITE, "Accounts@Pixel.example")
    assert written.value.billing_contact == "accounts@pixel.example"
    assert written.version == 2


# -- transfers (rules 4, 5, 6) --


def test_a_transfer_needs_an_existing_account(client_for: ClientFor) -> None:
    with pytest.raises(Conflict) as caught:
        client_for(STUDIO).start_transfer(SITE, "nobody@nowhere.example", True)
    assert caught.value.status == 409
    assert "the client must sign up first" in str(caught.value)


def test_only_one_transfer_may_be_pending(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    first = studio.start_transfer(SITE, ANNA, True).value
    assert first.status is TransferStatus.PENDING
    assert first.expires_at - first.created_at == timedelta(days=14)
    with pytest.raises(Conflict) as caught:
        studio.start_transfer(SITE, BEN, True)
    assert f"already has a pending transfer '{first.id}' to {ANNA}" in str(caught.value)
    studio.cancel_transfer(SITE, first.id)
    assert studio.start_transfer(SITE, BEN, True).value.to == BEN


def test_cancelling_twice_says_it_is_already_cancelled(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    transfer = studio.start_transfer(SITE, ANNA, False).value
    studio.cancel_transfer(SITE, transfer.id)
    with pytest.raises(Conflict, match="is already cancelled"):
        studio.cancel_transfer(SITE, transfer.id)
    assert studio.get_site(SITE).pending_transfer is None


def test_accepting_with_stay_makes_the_recipient_owner_and_keeps_the_expert(
    client_for: ClientFor,
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    studio.put_collaborator(SITE, ANNA, Role.VIEWER)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    accepted = anna.accept_transfer(transfer.id)
    assert accepted.value.status is TransferStatus.ACCEPTED
    site = anna.get_site(SITE)
    assert (site.owner, site.billing_contact) == (ANNA, ANNA)
    assert site.collaborators == {TOM: Role.VIEWER, STUDIO: Role.EDITOR}
    assert site.pending_transfer is None
    assert site.version == accepted.version


def test_staying_on_a_full_site_is_refused_when_the_transfer_starts(
    client_for: ClientFor, sandbox: ThreadedSandbox
) -> None:
    """Rule 9 holds through a handover: the former owner staying is one more collaborator."""
    studio = client_for(STUDIO)
    studio.put_collaborator(SITE, BEN, Role.VIEWER)  # Tom and Ben: the free package's 2
    with pytest.raises(Conflict) as caught:
        studio.start_transfer(SITE, ANNA, True)
    assert str(caught.value).endswith(
        "Site 'acme-bakery' has the free package, which allows at most 2 collaborators; "
        "studio@pixel.example staying as editor after the handover would be one more. "
        "Remove a collaborator first, or hand over without staying."
    )
    assert sandbox.store.transfers_of(SITE) == []
    # Handing over to a collaborator frees that collaborator's place.
    assert studio.start_transfer(SITE, BEN, True).value.status is TransferStatus.PENDING


def test_accepting_is_refused_when_the_site_filled_up_meanwhile(
    client_for: ClientFor, sandbox: ThreadedSandbox
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    studio.put_collaborator(SITE, BEN, Role.VIEWER)  # the last free place
    before = sandbox.store.site(SITE)

    with pytest.raises(Conflict) as caught:
        anna.accept_transfer(transfer.id)

    assert "studio@pixel.example staying as editor after the handover would be one more" in (
        str(caught.value)
    )
    assert sandbox.store.site(SITE) == before
    assert sandbox.store.transfers_of(SITE)[0].status is TransferStatus.PENDING


def test_accepting_without_stay_removes_all_access_of_the_former_owner(
    client_for: ClientFor,
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    transfer = studio.start_transfer(SITE, ANNA, False).value
    anna.accept_transfer(transfer.id)
    assert STUDIO not in anna.get_site(SITE).collaborators
    with pytest.raises(NotFound):
        studio.get_site(SITE)
    assert list(studio.iter_sites()) == []


def test_after_a_handover_the_expert_can_change_nothing(client_for: ClientFor) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    anna.accept_transfer(studio.start_transfer(SITE, ANNA, True).value.id)
    with pytest.raises(Forbidden):
        studio.put_collaborator(SITE, BEN, Role.VIEWER)
    with pytest.raises(Forbidden, match=f"Only the owner of site '{SITE}', {ANNA}, can buy"):
        studio.purchase(SITE, Package.PREMIUM)


def test_the_recipient_may_decline(client_for: ClientFor) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    received = anna.iter_transfers(TransferDirection.RECEIVED)  # where the recipient looks
    assert next(iter(received)) == transfer
    assert anna.decline_transfer(transfer.id).value.status is TransferStatus.DECLINED
    site = studio.get_site(SITE)
    assert (site.owner, site.pending_transfer) == (STUDIO, None)
    with pytest.raises(NotFound):
        anna.get_site(SITE)


def test_only_the_recipient_may_accept(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    with pytest.raises(NotFound, match="not addressed to you"):
        client_for(BEN).accept_transfer(transfer.id)
    with pytest.raises(Forbidden, match=f"Only the recipient, {ANNA}, can accept"):
        studio.accept_transfer(transfer.id)
    assert studio.get_site(SITE).owner == STUDIO


def test_a_transfer_expires_after_14_days(client_for: ClientFor, clock: FakeClock) -> None:
    studio = client_for(STUDIO)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    clock.advance(days=14)
    assert studio.get_site(SITE).pending_transfer is None
    with pytest.raises(Conflict, match="expired on 2025-03-15; the owner must start a new one"):
        client_for(ANNA).accept_transfer(transfer.id)
    assert studio.start_transfer(SITE, BEN, False).value.status is TransferStatus.PENDING


def test_a_transfer_is_still_pending_just_before_14_days(
    client_for: ClientFor, clock: FakeClock
) -> None:
    transfer = client_for(STUDIO).start_transfer(SITE, ANNA, True).value
    clock.advance(days=13, hours=23)
    assert client_for(ANNA).accept_transfer(transfer.id).value.status is TransferStatus.ACCEPTED


# -- packages and invoices (rules 1, 6, 7) --


def test_a_purchase_charges_and_invoices_the_owner(client_for: ClientFor, clock: FakeClock) -> None:
    studio = client_for(STUDIO)
    bought = studio.purchase(SITE, Package.PREMIUM)
    assert (bought.value.paid_by, bought.value.package) == (STUDIO, Package.PREMIUM)
    site = studio.get_site(SITE)
    assert site.package is Package.PREMIUM
    assert site.package_paid_until == clock.now + timedelta(days=365)
    [invoice] = studio.invoices(SITE)
    assert (invoice.id, invoice.billed_to) == (bought.value.invoice_id, STUDIO)
    assert invoice.amount_cents == bought.value.amount_cents > 0


def test_buying_the_package_a_site_has_is_a_conflict(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    with pytest.raises(Conflict, match="already has the free package"):
        studio.purchase(SITE, Package.FREE)
    studio.purchase(SITE, Package.PREMIUM)
    with pytest.raises(Conflict, match="already has the premium package"):
        studio.purchase(SITE, Package.PREMIUM)
    assert len(studio.invoices(SITE)) == 1


def test_a_paid_package_survives_a_handover_and_invoices_stay_with_the_payer(
    client_for: ClientFor,
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    studio.purchase(SITE, Package.PREMIUM)
    paid_until = studio.get_site(SITE).package_paid_until
    anna.accept_transfer(studio.start_transfer(SITE, ANNA, True).value.id)
    site = anna.get_site(SITE)
    assert (site.package, site.package_paid_until) == (Package.PREMIUM, paid_until)
    assert anna.invoices(SITE) == []
    with pytest.raises(Conflict, match="not refunded"):
        anna.purchase(SITE, Package.FREE)


def test_the_client_buys_after_the_handover_in_its_own_name(client_for: ClientFor) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    anna.accept_transfer(studio.start_transfer(SITE, ANNA, True).value.id)
    bought = anna.purchase(SITE, Package.PREMIUM).value
    assert bought.paid_by == ANNA
    assert [invoice.billed_to for invoice in anna.invoices(SITE)] == [ANNA]


def test_invoices_are_the_owners_only(client_for: ClientFor) -> None:
    client_for(STUDIO).put_collaborator(SITE, ANNA, Role.ADMIN)
    with pytest.raises(Forbidden, match="can see invoices"):
        client_for(ANNA).invoices(SITE)


def test_the_store_records_exactly_what_happened(
    sandbox: ThreadedSandbox, client_for: ClientFor
) -> None:
    studio = client_for(STUDIO)
    studio.purchase(SITE, Package.PREMIUM)
    transfer = studio.start_transfer(SITE, ANNA, False).value
    assert [i.billed_to for i in sandbox.store.invoices_of(SITE)] == [STUDIO]
    assert [t.id for t in sandbox.store.transfers_of(SITE)] == [transfer.id]
