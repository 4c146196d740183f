"""The shortcuts validate takes for the common case of a valid file give what the full
checks give: ``plainly_valid`` against ``SiteFile``, ``trusted_site`` against
``model_construct``, the normal form of an address against its checks, and a resolver
whose shortcuts are turned off against one that takes them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reconciler import addresses
from reconciler.desired import sitefile
from reconciler.desired.config import Config, People, Person
from reconciler.desired.loader import parse_yaml
from reconciler.desired.sitefile import SiteFile, SiteResolver, plainly_valid
from reconciler.desired.yamldoc import Document
from reconciler.model import DesiredSite, Location, Package, Role, trusted_site

FIELDS = ("id", "name", "owner", "billing_contact", "collaborators", "package", "ask_again_after")
TEXT = st.one_of(
    st.sampled_from(
        ["", " ", "x", "acme", "acme-bakery", "Acme", "acme\n", "-acme", "a" * 64, "expert"]
    ),
    st.sampled_from(["free", "premium", "Free", "viewer", "editor", "admin", "owner"]),
    st.sampled_from(["tom", "anna@acme.example", "ANNA@acme.example", "аnna@acme.example"]),
    st.text(max_size=8),
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=2),
    st.dictionaries(TEXT, SCALAR, max_size=3),
)


@st.composite
def site_data(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly site files' keys, each with a value of its type or of any other."""
    keys = draw(st.lists(st.sampled_from([*FIELDS, "owners", "Id"]), unique=True, max_size=8))
    return {key: draw(st.one_of(VALUE, TEXT)) for key in keys}


@given(site_data())
@settings(max_examples=600, deadline=None)
def test_what_plainly_valid_accepts_site_file_accepts_as_the_same_values(
    data: dict[str, Any],
) -> None:
    fast = plainly_valid(data)
    if fast is None:
        return
    model = SiteFile.model_validate(data)
    assert fast == (model.id, model.name, model.package, model.ask_again_after)


def test_a_usual_site_file_takes_the_shortcut() -> None:
    data = {
        "id": "acme-bakery",
        "name": "Acme Bakery",
        "owner": "expert",
        "billing_contact": "accounts@pixel.example",
        "collaborators": {"tom": "editor", "anna@acme.example": "viewer"},
        "package": "premium",
        "ask_again_after": "tr_8f2c1a",
    }
    assert plainly_valid(data) == ("acme-bakery", "Acme Bakery", Package.PREMIUM, "tr_8f2c1a")
    assert plainly_valid({"id": "acme", "owner": "tom"}) == ("acme", None, None, None)


@pytest.mark.parametrize(
    "data",
    [
        {"id": "acme", "owner": "tom", "name": None},  # valid for pydantic, refused later
        {"id": "acme", "owner": "tom", "ask_again_after": None},
        {"id": "acme\n", "owner": "tom"},
        {"id": "acme", "owner": ""},
        {"id": "acme", "owner": "tom", "collaborators": {"x": Role.VIEWER}},
        {"id": "acme", "owner": "tom", "package": "Free"},
        {"id": "acme", "owner": "tom", "extra": 1},
    ],
)
def test_anything_unusual_is_left_to_site_file(data: dict[str, Any]) -> None:
    assert plainly_valid(data) is None


def test_trusted_site_is_what_model_construct_makes() -> None:
    fields: dict[str, Any] = {
        "id": "acme",
        "name": None,
        "owner": "anna@acme.example",
        "billing_contact": None,
        "collaborators": {"tom@x.example": Role.EDITOR},
        "package": Package.FREE,
        "ask_again_after": None,
        "source": Location("sites/acme.yaml"),
        "locations": {},
        "departed": {"old@x.example": date(2026, 1, 1)},
    }
    assert list(fields) == list(DesiredSite.model_fields)
    trusted = trusted_site(dict(fields))
    constructed = DesiredSite.model_construct(set(DesiredSite.model_fields), **fields)
    assert trusted == constructed
    assert list(trusted.__dict__.items()) == list(constructed.__dict__.items())
    assert trusted.model_fields_set == constructed.model_fields_set
    assert trusted.__pydantic_extra__ is constructed.__pydantic_extra__ is None
    assert trusted.__pydantic_private__ is constructed.__pydantic_private__ is None
    assert trusted.model_dump() == constructed.model_dump()
    renamed = trusted.model_copy(update={"name": "Acme"})
    assert renamed.name == "Acme"
    assert trusted.name is None
    with pytest.raises(ValidationError):
        trusted.id = "other"  # type: ignore[misc]


ADDRESS = st.one_of(
    st.from_regex(r"\A[a-zA-Z0-9.!_-]{0,5}@[a-zA-Z0-9.-]{0,8}\Z"),
    st.from_regex(
        r"\A\s?[a-z0-9]{1,3}(\.[a-z0-9]{1,3})?@[a-z0-9-]{1,4}(\.[a-z0-9-]{1,4}){0,2}\s?\Z"
    ),
    st.text(max_size=12),
    st.sampled_from(["a@b.c", "a" * 64 + "@b.c", "a" * 65 + "@b.c", "a@" + "b" * 64 + ".c"]),
)


@given(ADDRESS)
@settings(max_examples=800, deadline=None)
def test_an_address_in_normal_form_is_checked_as_the_full_checks_check_it(
    value: str,
) -> None:
    full: str | ValueError
    try:
        full = _full_normalisation(value)
    except ValueError as exc:
        full = exc
    if addresses._NORMAL.fullmatch(value) is not None:
        assert full == value
    try:
        fast: str | ValueError = addresses._normalised(value)
    except ValueError as exc:
        fast = exc
    assert str(fast) == str(full)


def _full_normalisation(value: str) -> str:
    """``_normalised`` without its shortcut for an address in normal form."""
    pattern = addresses._NORMAL
    addresses._NORMAL = _NEVER  # type: ignore[assignment]
    try:
        return addresses._normalised(value)
    finally:
        addresses._NORMAL = pattern


class _Never:
    @staticmethod
    def fullmatch(_value: str) -> None:
        return None


_NEVER = _Never()

EXPERTS = ["studio@pixel.example", "studio@pïxel.example"]  # plain, and not
PEOPLE = People(
    by_handle={
        "tom": Person(email="tom@freelance.example"),
        "anna": Person(email="Anna@Acme-Bakery.example"),
        "olga": Person(email="olga@bäckerei.example", left=date(2026, 1, 1)),
        "eve": Person(email="studio@pixel.example"),
    }
)
WRITTEN = st.sampled_from(
    [
        "expert",
        "tom",
        "anna",
        "olga",
        "eve",
        "ghost",
        "studio@pixel.example",
        "studiо@pixel.example",
        "studio@pïxel.example",
        "studio@xn--pxel-5pa.example",
        "Studio@Pixel.example",
        "anna@acme-bakery.example",
        "аnna@acme-bakery.example",
        "anna@аcme-bakery.example",  # a Cyrillic а in the domain: valid, not plain
        "anna@acme-bakery.example ",
        "bob@xn--bcker-gra.example",
        "bob@bäcker.example",
        "bob@XN--BCKER-4VE.example",  # plain as written, b\u0430cker (Cyrillic) once normal
        "bob@backer.example",
        "not an address",
        "",
    ]
)


@st.composite
def site_text(draw: st.DrawFn) -> str:
    lines = [f"id: {draw(st.sampled_from(['acme', 'other', 'Acme']))}"]
    lines.append(f"owner: {draw(WRITTEN)!r}")
    if draw(st.booleans()):
        lines.append(f"billing_contact: {draw(WRITTEN)!r}")
    if draw(st.booleans()):
        lines.append("collaborators:")
        for written in draw(st.lists(WRITTEN, max_size=4, unique=True)):
            lines.append(f"  {written!r}: {draw(st.sampled_from(['viewer', 'admin', 'boss']))}")
    if draw(st.booleans()):
        lines.append(f"package: {draw(st.sampled_from(['free', 'premium', 'gold', '']))}")
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["name: Acme", "name:", "name: 3", "x: 1"])))
    return "\n".join(lines) + "\n"


@given(site_text(), st.sampled_from(EXPERTS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_resolver_without_shortcuts_finds_the_same(text: str, expert: str) -> None:
    parsed = parse_yaml(text, "sites/acme.yaml")
    assert parsed.document is not None
    fast = _outcome(parsed.document, expert)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sitefile, "plainly_valid", lambda _data: None)
        patch.setattr(sitefile, "plain_address", lambda _address: False)
        full = _outcome(parsed.document, expert)
    assert fast == full


def _outcome(document: Document, expert: str) -> tuple[Any, ...]:
    warnings: list[Any] = []
    config = Config(expert=expert)
    site = SiteResolver(config, PEOPLE).resolve(document, warnings)
    if isinstance(site, list):
        return (site, warnings)
    return (site.model_dump(), site.source, dict(site.locations), dict(site.departed), warnings)
