"""The documentation's example answers (fixtures/): each says where it was read, fits the
fake's models, and is the shape the fake answers; and they replay with ``responses``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from pydantic import TypeAdapter

from duda.fake import DudaFake, ManualClock, Variants
from duda.fake.models import (
    AccessibleSite,
    Account,
    ErrorBody,
    GrantedPermissions,
    Plan,
    Site,
    SitePage,
)
from duda.replay import Fixture, fixture, fixture_names, replay

MODELS: dict[str, Any] = {
    "error_site_not_found": ErrorBody,
    "get_site": Site,
    "list_sites": SitePage,
    "get_account": Account,
    "create_account": None,
    "delete_account": None,
    "list_permission_names": list[str],
    "list_permission_names_object": GrantedPermissions,
    "get_permissions": GrantedPermissions,
    "get_permissions_bare_list": list[str],
    "grant_permissions": None,
    "remove_permissions": None,
    "accessible_sites": list[AccessibleSite],
    "list_plans": list[Plan],
    "get_plan": Plan,
    "update_plan": Plan,
    "list_plans_plan_id_capitals": list[Plan],
    "get_plan_plan_id_capitals": Plan,
}

VARIANTS = {  # the fixtures of what the sources disagree on, and the fake's matching variant
    "list_permission_names_object": Variants(names_shape="object"),
    "get_permissions_bare_list": Variants(grant_shape="list"),
    "list_plans_plan_id_capitals": Variants(plan_key="planID"),
    "get_plan_plan_id_capitals": Variants(plan_key="planID"),
}

ACCOUNT, SITE = "johnl2@yahoo.com", "6c56394c"  # the names in the documentation's examples
REQUESTS: dict[str, dict[str, Any]] = {  # what a fixture's request sends, when anything
    "create_account": {"account_name": "john12@yahoo.com"},  # D's curl example
    "grant_permissions": {"permissions": ["EDIT", "PUBLISH"]},  # D's curl example
}


def test_every_fixture_is_listed_here() -> None:
    assert fixture_names() == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_fixture_says_where_it_was_read_and_fits_the_fakes_model(name: str) -> None:
    answer = fixture(name)
    assert answer.source
    assert answer.url.startswith("https://")
    assert answer.method in ("GET", "POST", "DELETE")
    assert answer.path.startswith("/")
    if MODELS[name] is None:
        assert (answer.status, answer.body) == (204, None)
    else:
        assert answer.status in (200, 400)
        TypeAdapter(MODELS[name]).validate_python(answer.body)


@pytest.fixture
def documented() -> Iterator[DudaFake]:
    """A fake holding what the documentation's examples name."""
    with DudaFake(clock=ManualClock(), rate_limit=None) as fake:
        fake.state.add_plan(101, "INFO")
        fake.state.add_plan(201, "YELL_ONE_PAGER")
        fake.state.add_site(SITE, plan=101)
        fake.state.add_account(ACCOUNT, first_name="John", company_name="Lewis Co.")
        fake.state.grant(ACCOUNT, SITE, ["STATS_TAB", "EDIT"])
        yield fake


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_fake_answers_in_the_shape_of_the_documented_example(
    documented: DudaFake, name: str
) -> None:
    answer = fixture(name)
    documented.variants = VARIANTS.get(name, Variants())
    site = "badName" if name == "error_site_not_found" else SITE
    path = answer.path_with(account_name=ACCOUNT, site_name=site, plan_id=101)
    got = requests.request(
        answer.method,
        documented.url + path,
        json=REQUESTS.get(name),
        auth=(documented.user, documented.password),
        timeout=10,
    )
    assert got.status_code == answer.status
    if answer.body is None:
        assert got.content == b""
    elif name == "error_site_not_found":
        assert got.json() == answer.body  # word for word, as the documentation has it
    else:
        assert _fits(got.json(), answer.body), (got.json(), answer.body)


def _fits(served: Any, example: Any) -> bool:
    """The fake's answer uses only fields the example has, of the same kinds."""
    if isinstance(example, dict):
        return isinstance(served, dict) and all(
            key in example and _fits(value, example[key]) for key, value in served.items()
        )
    if isinstance(example, list):
        return isinstance(served, list) and all(_fits(item, example[0]) for item in served)
    return type(served) is type(example)


def test_a_fixture_replays_where_the_adapter_will_ask() -> None:
    base = "https://api.duda.co/api"
    with responses.RequestsMock() as mock:
        replay(mock, fixture("get_permissions"), base, account_name=ACCOUNT, site_name=SITE)
        replay(mock, fixture("grant_permissions"), base, account_name=ACCOUNT, site_name=SITE)
        url = f"{base}/accounts/{ACCOUNT}/sites/{SITE}/permissions"
        read = requests.get(url, timeout=10)
        written = requests.post(url, json={"permissions": ["EDIT"]}, timeout=10)
    assert (read.status_code, read.json()) == (200, fixture("get_permissions").body)
    assert (written.status_code, written.content) == (204, b"")


def test_a_fixtures_path_is_filled_with_encoded_names() -> None:
    answer: Fixture = fixture("accessible_sites")
    assert answer.path_with(account_name="a+b@x.example") == (
        "/accounts/grant-access/a%2Bb@x.example/sites/multiscreen"
    )
