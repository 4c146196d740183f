"""Duda's Partner API as its documentation states it (DUDA_API.md), over raw HTTP.

Every test runs against the fake and, when a person sets the sandbox variables, against
Duda's sandbox host, unchanged (conftest.py). A test asserts only what Duda documents;
where the sources disagree it accepts each documented version. What Duda leaves
undocumented, and the fake's limits on its own clock, are checked in test_fake.py and in
the two fake-only tests at the end.
"""

from __future__ import annotations

import math
import uuid

import pytest
import requests

from duda.contract import SANDBOX_URL, Http, Target, granted, plan_id, sandbox_skip_reason, segment


def _error(response: requests.Response, code: str) -> str:
    """The documented 400 body: ``{"error_code": ..., "message": ...}``; its message."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    return str(body["message"])


def test_the_suite_runs_against_dudas_sandbox_host_when_asked(target: Target) -> None:
    reason = sandbox_skip_reason()
    if reason:
        pytest.skip(reason)
    assert target.name in ("fake", "sandbox")
    assert SANDBOX_URL.startswith("https://")


# --- authentication ----------------------------------------------------------------------


def test_a_wrong_password_is_401_and_the_answer_holds_no_credential(
    http: Http, target: Target
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    response = http("GET", "/sites/multiscreen", params={"limit": 1}, auth=(target.user, wrong))
    assert response.status_code == 401
    assert wrong not in response.text
    assert target.password not in response.text


def test_no_credentials_is_401(http: Http) -> None:
    http.session.auth = None
    assert http("GET", "/sites/multiscreen", params={"limit": 1}).status_code == 401


# --- sites -------------------------------------------------------------------------------


def test_a_site_is_read_by_its_name(http: Http, target: Target) -> None:
    response = http("GET", f"/sites/multiscreen/{segment(target.site)}")
    assert response.status_code == 200
    assert response.json()["site_name"] == target.site


def test_an_unknown_site_is_400_resource_not_exist_not_404(http: Http) -> None:
    name = f"no-such-site-{uuid.uuid4().hex[:8]}"
    message = _error(http("GET", f"/sites/multiscreen/{name}"), "ResourceNotExist")
    assert name in message  # D: "Site with alias 'badName' doesn't exist"


def test_the_pages_of_the_listing_add_up_to_total_responses(http: Http, target: Target) -> None:
    first = http("GET", "/sites/multiscreen", params={"offset": 0, "limit": 1}).json()
    total = first["total_responses"]
    assert total >= 1  # at least the target's site
    limit = min(100, max(1, math.ceil(total / 3)))  # a few pages, whatever the account holds
    names: list[str] = []
    for offset in range(0, min(total, 10 * limit), limit):
        page = http("GET", "/sites/multiscreen", params={"offset": offset, "limit": limit}).json()
        assert page["offset"] == offset
        assert page["total_responses"] == total
        assert len(page["results"]) <= limit
        names += [site["site_name"] for site in page["results"]]
    if total <= 10 * limit:
        assert len(names) == total
        assert len(set(names)) == total
        assert target.site in names


def test_a_page_past_the_end_is_empty(http: Http) -> None:
    total = http("GET", "/sites/multiscreen", params={"limit": 1}).json()["total_responses"]
    page = http("GET", "/sites/multiscreen", params={"offset": total, "limit": 10}).json()
    assert page["results"] == []
    assert page["total_responses"] == total


# --- accounts ----------------------------------------------------------------------------


def test_an_account_is_created_with_204_and_no_body_then_read(http: Http, new_account: str) -> None:
    path = f"/accounts/{segment(new_account)}"
    _error(http("GET", path), "ResourceNotExist")
    created = http(
        "POST", "/accounts/create", json={"account_name": new_account, "account_type": "CUSTOMER"}
    )
    assert created.status_code == 204
    assert created.content == b""
    account = http("GET", path).json()
    assert account["account_name"] == new_account
    assert account["account_type"] == "CUSTOMER"


def test_an_account_is_created_once(http: Http, new_account: str) -> None:
    body = {"account_name": new_account}
    assert http("POST", "/accounts/create", json=body).status_code == 204
    again = http("POST", "/accounts/create", json=body)
    assert again.status_code == 400
    assert isinstance(again.json()["error_code"], str)  # O: ResourceAlreadyExist


# --- permissions -------------------------------------------------------------------------


def test_the_permission_names_are_listed(http: Http) -> None:
    response = http("GET", "/accounts/permissions/multiscreen")
    assert response.status_code == 200
    names = granted(response.json())  # a bare list (D, C) or {"permissions": [...]} (O)
    assert {"STATS_TAB", "EDIT", "PUBLISH", "LIMITED_EDITING"} <= names
    assert all(name.isupper() for name in names)


def test_a_grant_is_overwritten_read_back_listed_and_removed(
    http: Http, target: Target, new_account: str
) -> None:
    account, site = segment(new_account), segment(target.site)
    permissions = f"/accounts/{account}/sites/{site}/permissions"
    listing = f"/accounts/grant-access/{account}/sites/multiscreen"
    assert http("POST", "/accounts/create", json={"account_name": new_account}).status_code == 204
    assert http("GET", listing).json() == []

    assert http("POST", permissions, json={"permissions": ["STATS_TAB", "EDIT"]}).status_code == 204
    assert granted(http("GET", permissions).json()) == {"STATS_TAB", "EDIT"}
    assert {"site_name": target.site} in http("GET", listing).json()

    assert http("POST", permissions, json={"permissions": ["STATS_TAB"]}).status_code == 204
    assert granted(http("GET", permissions).json()) == {"STATS_TAB"}  # overwritten, not merged

    removed = http("DELETE", permissions)
    assert removed.status_code == 204
    assert removed.content == b""
    assert {"site_name": target.site} not in http("GET", listing).json()
    assert http("GET", f"/accounts/{account}").status_code == 200  # the account stays


def test_the_sites_of_an_unknown_account_are_resource_not_exist(http: Http) -> None:
    name = segment(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    _error(http("GET", f"/accounts/grant-access/{name}/sites/multiscreen"), "ResourceNotExist")


def test_a_grant_on_an_unknown_site_is_resource_not_exist(http: Http, new_account: str) -> None:
    assert http("POST", "/accounts/create", json={"account_name": new_account}).status_code == 204
    site = f"no-such-site-{uuid.uuid4().hex[:8]}"
    path = f"/accounts/{segment(new_account)}/sites/{site}/permissions"
    _error(http("POST", path, json={"permissions": ["STATS_TAB"]}), "ResourceNotExist")


def test_a_grant_to_an_unknown_account_is_resource_not_exist(http: Http, target: Target) -> None:
    account = segment(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    path = f"/accounts/{account}/sites/{segment(target.site)}/permissions"
    _error(http("POST", path, json={"permissions": ["STATS_TAB"]}), "ResourceNotExist")


# --- plans -------------------------------------------------------------------------------


def test_a_site_plan_is_listed_read_changed_and_restored(http: Http, target: Target) -> None:
    listed = http("GET", "/sites/multiscreen/plans")
    if listed.status_code != 200 or not listed.json():
        pytest.skip(f"plans are not enabled for this partner account: {listed.text[:200]}")
    plans = [plan_id(plan) for plan in listed.json()]
    assert all(isinstance(plan["planName"], str) for plan in listed.json())
    path = f"/sites/multiscreen/{segment(target.site)}/plan"
    before = plan_id(http("GET", path).json())
    assert before in plans
    other = next((plan for plan in plans if plan != before), before)
    try:
        changed = http("POST", f"{path}/{other}")
        assert changed.status_code == 200
        assert plan_id(changed.json()) == other
        assert plan_id(http("GET", path).json()) == other
    finally:
        assert http("POST", f"{path}/{before}").status_code == 200
    assert plan_id(http("GET", path).json()) == before


def test_the_plan_of_an_unknown_site_is_resource_not_exist(http: Http) -> None:
    site = f"no-such-site-{uuid.uuid4().hex[:8]}"
    _error(http("GET", f"/sites/multiscreen/{site}/plan"), "ResourceNotExist")


# --- rate limits (the fake only: on the sandbox they would spend the partner's limit) -----


def test_the_eleventh_request_in_a_second_is_429_without_retry_after(
    http: Http, target: Target, fake_only: object
) -> None:
    answers = [http("GET", "/sites/multiscreen", paced=False) for _ in range(11)]
    assert [answer.status_code for answer in answers] == [200] * 10 + [429]
    assert "Retry-After" not in answers[-1].headers
    target.clock.advance(1.0)
    assert http("GET", "/sites/multiscreen", paced=False).status_code == 200


def test_the_sixty_first_account_in_a_minute_is_429(
    http: Http, target: Target, fake_only: object
) -> None:
    def create(number: int) -> requests.Response:
        target.clock.advance(0.5)  # well inside 10 a second: only the per-minute limit counts
        body = {"account_name": f"client-{number}@example.com"}
        return http("POST", "/accounts/create", json=body, paced=False)

    assert [create(number).status_code for number in range(60)] == [204] * 60  # 30 s
    refused = create(60)
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers
    target.clock.advance(30.0)  # the first creation has left the minute
    assert create(61).status_code == 204
