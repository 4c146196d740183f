"""The reconciler's views of wire answers (``to_observed``, ``to_record``) are built
without pydantic's ``model_construct`` (too slow for 10,000 sites a plan): each must be
exactly the model ``model_construct`` makes, and the one full validation makes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from reconciler.model import EndedTransfer, ObservedSite, PendingTransfer, TransferRecord
from reconciler.platform.schema import Site, Transfer, to_observed, to_record

_TRANSFER = {
    "id": "tr-1",
    "site_id": "acme",
    "from_owner": "Studio@Pixel.example",
    "to": "nina@yoga.example",
    "stay_as_collaborator": True,
    "status": "pending",
    "created_at": "2026-11-01T10:00:00Z",
    "expires_at": "2026-11-15T10:00:00Z",
}
_LAST = {
    "id": "tr-0",
    "to": "tom@yoga.example",
    "stay_as_collaborator": False,
    "status": "declined",
    "created_at": "2026-10-01T10:00:00Z",
    "ended_at": "2026-10-03T10:00:00Z",
}
_SITE = {
    "id": "acme",
    "name": "Acme",
    "owner": "studio@pixel.example",
    "billing_contact": "Billing@Acme.example",
    "package": "free",
    "collaborators": {"Tom@Acme.example": "editor"},
    "version": 7,
}
_PAID = {
    "package": "premium",
    "package_paid_until": "2027-01-01T00:00:00Z",
    "package_price": {"amount_cents": 900, "currency": "EUR", "period": "month"},
    "package_renews_at": "2027-01-01T00:00:00Z",
}

SITES = {
    "bare": _SITE,
    "paid": {**_SITE, **_PAID},
    "pending": {**_SITE, "pending_transfer": _TRANSFER},
    "accepted, not pending": {**_SITE, "pending_transfer": {**_TRANSFER, "status": "accepted"}},
    "last transfer": {**_SITE, "last_transfer": _LAST, "collaborators": {}},
    "everything": {**_SITE, **_PAID, "pending_transfer": _TRANSFER, "last_transfer": _LAST},
}


def _same_model(made: BaseModel, expected: BaseModel) -> None:
    assert type(made) is type(expected)
    assert made == expected
    assert list(made.__dict__.items()) == list(expected.__dict__.items())  # order too
    assert made.model_fields_set == expected.model_fields_set
    assert made.__pydantic_extra__ == expected.__pydantic_extra__
    assert made.__pydantic_private__ == expected.__pydantic_private__
    assert made.model_dump(mode="json") == expected.model_dump(mode="json")
    assert repr(made) == repr(expected)


def _constructed(site: Site) -> ObservedSite:
    """The view as ``model_construct`` makes it (what ``to_observed`` did before)."""
    wire = site.pending_transfer
    pending = None
    if wire is not None and wire.status == "pending":
        pending = PendingTransfer.model_construct(
            set(PendingTransfer.model_fields),
            **wire.model_dump(include=set(PendingTransfer.model_fields)),
        )
    last = site.last_transfer
    ended = None if last is None else EndedTransfer.model_construct(**dict(last))
    values: dict[str, Any] = {name: getattr(site, name) for name in Site.model_fields}
    values.update(pending_transfer=pending, last_transfer=ended)
    return ObservedSite.model_construct(set(ObservedSite.model_fields), **values)


@pytest.mark.parametrize("data", SITES.values(), ids=SITES.keys())
def test_to_observed_is_what_model_construct_and_validation_make(data: dict[str, Any]) -> None:
    site = Site.model_validate(data)
    observed = to_observed(site)

    _same_model(observed, _constructed(site))
    validated = ObservedSite.model_validate(observed.model_dump())
    assert observed == validated
    assert observed.fingerprint_data() == validated.fingerprint_data()
    for nested in ("pending_transfer", "last_transfer"):
        if getattr(observed, nested) is not None:
            _same_model(getattr(observed, nested), getattr(validated, nested))


def test_to_observed_gives_each_site_its_own_unmapped_access() -> None:
    one, two = (to_observed(Site.model_validate(_SITE)) for _ in range(2))
    assert one.unmapped_access == {}
    assert one.unmapped_access is not two.unmapped_access


@pytest.mark.parametrize("ended", [None, "2026-11-03T10:00:00Z"])
def test_to_record_is_what_model_construct_makes(ended: str | None) -> None:
    transfer = Transfer.model_validate({**_TRANSFER, "ended_at": ended})
    record = to_record(transfer)

    _same_model(record, TransferRecord.model_construct(**dict(transfer)))
    assert record == TransferRecord.model_validate(record.model_dump())


@pytest.mark.parametrize(
    "model", [ObservedSite, PendingTransfer, EndedTransfer, TransferRecord], ids=str
)
def test_the_views_have_nothing_model_construct_would_also_set_up(
    model: type[BaseModel],
) -> None:
    # to_observed and to_record set __dict__ and the fields set only: a private
    # attribute or a model_post_init would be left out.
    assert not model.__private_attributes__
    assert not model.__pydantic_post_init__
    assert model.model_config.get("extra") in (None, "ignore")
