"""The ``duda`` platform reads the example answers of Duda's documentation and typed
client (tests/duda/fixtures, with their sources), both shapes where they disagree."""

from __future__ import annotations

import pytest
import responses

from duda.replay import fixture, replay
from reconciler.model import Package, Role
from reconciler.platform.base import Interest
from reconciler.platform.duda import DudaConfig
from reconciler.platform.duda.platform import DudaPlatform
from reconciler.platform.errors import NotFound
from support.clock import VirtualTime
from support.repo import EXPERT

BASE = "https://api.duda.co/api"
ANN = "ann@x.example"


def platform(**settings: object) -> DudaPlatform:
    time = VirtualTime()
    return DudaPlatform(
        DudaConfig.model_validate(settings),
        "user",
        "password",
        sleep=time.sleep,
        monotonic=time.monotonic,
    )


@pytest.mark.parametrize(
    ("grant", "roles", "names", "expected"),
    [
        ("get_permissions", {"viewer": ["STATS_TAB"]}, "list_permission_names", Role.VIEWER),
        ("get_permissions_bare_list", {"viewer": ["EDIT"], "editor": ["EDIT", "SEO"]},
         "list_permission_names_object", Role.VIEWER),
        ("get_permissions_bare_list", {"viewer": ["STATS_TAB"], "editor": ["EDIT"],
                                       "admin": ["EDIT", "SEO"]}, None, Role.EDITOR),
    ],
)  # fmt: skip
def test_a_documented_listing_and_grant_read_as_the_site_and_its_collaborator(
    grant: str, roles: dict[str, list[str]], names: str | None, expected: Role
) -> None:
    duda = platform(roles=roles, plans={"free": 1, "premium": 2})
    duda.attend(Interest(EXPERT, frozenset({ANN}), frozenset({"6c56394c"})))
    with responses.RequestsMock() as mock:
        replay(mock, fixture("list_sites"), BASE)
        accessible = fixture("accessible_sites")
        mock.add("GET", BASE + accessible.path_with(account_name=ANN), json=[
            {"site_name": "6c56394c"}, *accessible.body])  # fmt: skip
        replay(mock, fixture(grant), BASE, account_name=ANN, site_name="6c56394c")
        replay(mock, fixture("get_plan_plan_id_capitals"), BASE, site_name="6c56394c")
        if names is not None:
            replay(mock, fixture(names), BASE)

        sites = list(duda.sites())

    assert [site.id for site in sites] == ["6c56394c"]
    assert sites[0].name == "customDomain1.com"
    assert sites[0].collaborators == {ANN: expected}
    assert (sites[0].package, sites[0].package_known) == (Package.FREE, True)  # planID 1


def test_the_documented_error_body_is_not_found_with_dudas_words() -> None:
    duda = platform()
    with responses.RequestsMock() as mock:
        replay(mock, fixture("error_site_not_found"), BASE, site_name="badName")

        with pytest.raises(NotFound) as raised:
            duda.client.get("sites", "multiscreen", "badName")

    assert raised.value.message == (
        "GET /sites/multiscreen/badName failed (400, ResourceNotExist): Site with alias "
        "'badName' doesn't exist"
    )
