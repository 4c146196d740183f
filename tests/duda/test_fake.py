"""The fake itself: the variants Duda's sources disagree on, the choices it makes where
Duda documents nothing, its counts, its seed files, its clock and its command line.

These are what the adapter's tests lean on, so they are pinned here; the contract suite
(test_duda_contract.py) pins what Duda documents.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from duda.fake import (
    FAKE_PASSWORD,
    DudaFake,
    ManualClock,
    Seed,
    SeedError,
    Variants,
    load_seed,
)

TESTS = Path(__file__).resolve().parents[1]
EXAMPLE_SEED = Path(__file__).with_name("seed.example.yaml")

Call = Callable[..., requests.Response]


@pytest.fixture
def fake() -> Iterator[DudaFake]:
    with DudaFake(clock=ManualClock()) as running:
        running.seed(EXAMPLE_SEED)
        yield running


@pytest.fixture
def call(fake: DudaFake) -> Iterator[Call]:
    """``call(method, path, **requests_options)`` with the fake's credentials; each call
    moves the fake's clock by 125 ms, so the rate limit never bites unless a test wants."""
    session = requests.Session()
    session.auth = (fake.user, fake.password)

    def request(method: str, path: str, **options: Any) -> requests.Response:
        _advance(fake, 0.125)
        return session.request(method, fake.url + path, timeout=10, **options)

    yield request
    session.close()


def _advance(fake: DudaFake, seconds: float) -> None:
    assert isinstance(fake.clock, ManualClock)
    fake.clock.advance(seconds)


def _error(response: requests.Response) -> tuple[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    return body["error_code"], body["message"]


PERMISSIONS = "/accounts/ann@acme.example/sites/acme-bakery/permissions"


# --- the variants ------------------------------------------------------------------------


def test_permissions_are_an_object_by_default_and_a_bare_list_on_request(
    fake: DudaFake, call: Call
) -> None:
    assert call("GET", PERMISSIONS).json() == {"permissions": ["STATS_TAB", "EDIT", "PUBLISH"]}
    fake.variants = Variants(grant_shape="list")
    assert call("GET", PERMISSIONS).json() == ["STATS_TAB", "EDIT", "PUBLISH"]


def test_the_names_are_a_bare_list_by_default_and_an_object_on_request(
    fake: DudaFake, call: Call
) -> None:
    names = call("GET", "/accounts/permissions/multiscreen").json()
    assert names[:3] == ["STATS_TAB", "EDIT", "ADD_FLEX"]
    assert len(names) == 22
    fake.variants = Variants(names_shape="object")
    assert call("GET", "/accounts/permissions/multiscreen").json() == {"permissions": names}


def test_plans_say_plan_id_by_default_and_plan_id_in_capitals_on_request(
    fake: DudaFake, call: Call
) -> None:
    assert call("GET", "/sites/multiscreen/bolt-gym/plan").json() == {
        "planId": 2,
        "planName": "PREMIUM",
    }
    fake.variants = Variants(plan_key="planID")
    assert call("GET", "/sites/multiscreen/plans").json() == [
        {"planID": 1, "planName": "FREE"},
        {"planID": 2, "planName": "PREMIUM"},
    ]
    assert call("POST", "/sites/multiscreen/acme-bakery/plan/2").json() == {
        "planID": 2,
        "planName": "PREMIUM",
    }


@pytest.mark.parametrize("body", [{"permissions": []}, {}, None])
def test_an_empty_grant_removes_access_by_default_and_is_counted(
    fake: DudaFake, call: Call, body: dict[str, list[str]] | None
) -> None:
    assert call("POST", PERMISSIONS, json=body).status_code == 204
    assert fake.state.granted("ann@acme.example", "acme-bakery") is None
    assert fake.stats().empty_grants == 1


def test_an_empty_grant_grants_everything_as_older_docs_say_on_request(
    fake: DudaFake, call: Call
) -> None:
    fake.variants = Variants(empty_grant="everything")
    assert call("POST", PERMISSIONS, json={"permissions": []}).status_code == 204
    granted = fake.state.granted("ann@acme.example", "acme-bakery")
    assert granted is not None
    assert len(granted) == 22
    assert fake.stats().empty_grants == 1


def test_a_pair_without_a_grant_is_resource_not_exist_or_on_request_an_empty_set(
    fake: DudaFake, call: Call
) -> None:
    path = "/accounts/ann@acme.example/sites/bolt-gym/permissions"
    assert _error(call("GET", path)) == (
        "ResourceNotExist",
        "Account 'ann@acme.example' has no access to site 'bolt-gym'",
    )
    fake.variants = Variants(ungranted_read="empty")
    assert call("GET", path).json() == {"permissions": []}
    unknown = "/accounts/ann@acme.example/sites/no-such-site/permissions"
    assert _error(call("GET", unknown))[0] == "ResourceNotExist"  # still: no such site


# --- where Duda documents nothing, what the fake chose -----------------------------------


def test_a_grant_is_answered_in_the_order_of_the_names_list_not_as_sent(
    fake: DudaFake, call: Call
) -> None:
    call("POST", PERMISSIONS, json={"permissions": ["PUBLISH", "EDIT", "EDIT", "STATS_TAB"]})
    assert call("GET", PERMISSIONS).json() == {"permissions": ["STATS_TAB", "EDIT", "PUBLISH"]}


def test_removing_a_grant_that_does_not_exist_is_resource_not_exist(call: Call) -> None:
    assert call("DELETE", PERMISSIONS).status_code == 204
    assert _error(call("DELETE", PERMISSIONS))[0] == "ResourceNotExist"


def test_deleting_an_account_takes_its_grants(fake: DudaFake, call: Call) -> None:
    assert call("DELETE", "/accounts/ann@acme.example").status_code == 204
    assert fake.state.grants == {}
    assert _error(call("GET", "/accounts/ann@acme.example"))[0] == "ResourceNotExist"


def test_an_unknown_plan_id_is_resource_not_exist(call: Call) -> None:
    assert _error(call("POST", "/sites/multiscreen/acme-bakery/plan/99")) == (
        "ResourceNotExist",
        "Plan with id '99' doesn't exist",
    )


def test_a_page_is_at_most_a_hundred_sites(fake: DudaFake, call: Call) -> None:
    fake.state.add_sites(f"site-{number:03}" for number in range(150))
    page = call("GET", "/sites/multiscreen", params={"offset": 0, "limit": 500}).json()
    assert (page["limit"], len(page["results"]), page["total_responses"]) == (100, 100, 153)
    assert [site["site_name"] for site in page["results"][:3]] == [
        "acme-bakery",
        "bolt-gym",
        "corner-florist",
    ]


def test_a_listed_site_is_the_partners_with_its_labels(call: Call) -> None:
    site = call("GET", "/sites/multiscreen/corner-florist").json()
    assert site["account_name"] == "studio@pixel.example"
    assert site["labels"] == [{"name": "priority client"}]


def test_an_account_name_may_carry_a_plus_when_it_is_percent_encoded(
    fake: DudaFake, call: Call
) -> None:
    assert call("POST", "/accounts/create", json={"account_name": "a+b@x.example"}).ok
    assert call("GET", "/accounts/a%2Bb@x.example").json()["account_name"] == "a+b@x.example"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b'{"acount_name": "x@y.example"}', "account_name: Field required"),
        (b'{"account_name": "x@y.example", "kind": "VIP"}', "kind: Extra inputs"),
        (b'{"account_name": "x@y.example", "account_type": "VIP"}', "account_type: Input"),
        (b'{"account_name": ""}', "account_name: String should have at least 1 character"),
    ],
)
def test_a_bad_create_account_body_is_invalid_input(call: Call, body: bytes, message: str) -> None:
    code, said = _error(call("POST", "/accounts/create", data=body))
    assert code == "InvalidInput"
    assert said.startswith(message)


def test_an_unknown_permission_name_is_invalid_input(call: Call) -> None:
    grant = {"permissions": ["EDIT", "FLY", "SING"]}
    assert _error(call("POST", PERMISSIONS, json=grant)) == (
        "InvalidInput",
        "Unknown permissions: FLY, SING",
    )


@pytest.mark.parametrize(("offset", "limit"), [("x", "1"), ("-1", "1"), ("0", "ten")])
def test_a_bad_offset_or_limit_is_invalid_input(call: Call, offset: str, limit: str) -> None:
    response = call("GET", "/sites/multiscreen", params={"offset": offset, "limit": limit})
    assert _error(response)[0] == "InvalidInput"


def test_a_path_duda_does_not_have_is_404_and_a_wrong_method_405(call: Call) -> None:
    assert call("GET", "/sites/multiscreen/acme-bakery/nothing").status_code == 404
    refused = call("PUT", "/accounts/create")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "POST")


def test_the_credentials_are_offered_under_the_adapters_default_variables(
    fake: DudaFake, call: Call
) -> None:
    assert fake.environ == {"DUDA_API_USER": "fake-api-user", "DUDA_API_PASS": FAKE_PASSWORD}
    assert call("GET", "/sites/multiscreen").status_code == 200


@pytest.mark.parametrize(
    "authorization", ["", "Bearer token", "Basic !!!", "Basic " + "eDp5", "Basic //79"]
)
def test_anything_but_the_right_basic_credentials_is_401(
    fake: DudaFake, authorization: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(fake.url + "/sites/multiscreen", headers=headers, timeout=10)
    assert (response.status_code, response.text) == (401, "Unauthorized")


# --- the counts ----------------------------------------------------------------------------


def test_requests_are_counted_by_route_and_status(fake: DudaFake, call: Call) -> None:
    call("GET", "/sites/multiscreen")
    call("GET", "/sites/multiscreen/acme-bakery")
    call("GET", "/sites/multiscreen/no-such-site")
    call("GET", "/nowhere")
    stats = fake.stats()
    assert stats.total == 4
    assert stats.count("GET /sites/multiscreen") == 1
    assert stats.count("GET /sites/multiscreen/{site}", 200) == 1
    assert stats.count("GET /sites/multiscreen/{site}", 400) == 1
    assert stats.count("unmatched", 404) == 1
    assert stats.by_status == {"200": 2, "400": 1, "404": 1}


def test_the_counts_are_read_and_reset_over_http_without_being_counted(
    fake: DudaFake, call: Call
) -> None:
    call("GET", "/sites/multiscreen")
    over_http = requests.get(fake.root + "/_fake/stats", timeout=10).json()
    assert over_http == fake.stats().model_dump()
    assert over_http["total"] == 1
    assert requests.post(fake.root + "/_fake/stats/reset", timeout=10).status_code == 204
    assert fake.stats().total == 0


# --- the clock and the limits ------------------------------------------------------------


def test_the_limit_is_a_sliding_second_and_refused_requests_do_not_count(
    fake: DudaFake,
) -> None:
    session = requests.Session()
    session.auth = (fake.user, fake.password)

    def status() -> int:
        return session.get(fake.url + "/sites/multiscreen", timeout=10).status_code

    assert [status() for _ in range(5)] == [200] * 5  # at t
    _advance(fake, 0.5)
    assert [status() for _ in range(6)] == [200] * 5 + [429]  # at t + 0.5
    _advance(fake, 0.5)  # the first five left the window; the 429 never entered it
    assert [status() for _ in range(6)] == [200] * 5 + [429]
    assert fake.stats().rate_limited == 2


def test_the_limits_can_be_turned_off() -> None:
    with DudaFake(clock=ManualClock(), rate_limit=None) as fake:
        session = requests.Session()
        session.auth = (fake.user, fake.password)
        answers = [session.get(fake.url + "/sites/multiscreen", timeout=10) for _ in range(30)]
        assert {answer.status_code for answer in answers} == {200}


def test_a_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(start=5.0)
    clock.sleep(1.5)
    clock.sleep(-3)  # a sleeper asked to wait for nothing waits for nothing
    assert clock() == 6.5
    with pytest.raises(ValueError, match="a clock does not go back"):
        clock.advance(-1)


# --- seeding -------------------------------------------------------------------------------


def test_a_json_seed_is_read_like_a_yaml_one(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    seed = {"sites": ["a", {"name": "b", "plan": 7}], "plans": [{"id": 7, "name": "PRO"}]}
    path.write_text(json.dumps(seed), encoding="utf-8")
    with DudaFake() as fake:
        fake.seed(path)
        assert list(fake.state.sites) == ["a", "b"]
        assert fake.state.site_plan("a") == 7  # a site with no plan is on the first


def test_a_seed_may_be_given_as_a_value_and_name_its_permissions() -> None:
    seed = Seed(permission_names=["STATS_TAB", "EDIT"], sites=["a"], accounts=["x@y.example"])
    with DudaFake() as fake:
        fake.seed(seed)
        assert fake.state.permission_names == ("STATS_TAB", "EDIT")
        assert fake.state.get_account("x@y.example").account_type == "CUSTOMER"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sites: [a, a]", "site 'a': the fake already has a site named 'a'"),
        ("sites: [{name: a, plan: 3}]", "site 'a': Plan with id '3' doesn't exist"),
        ("accounts: [x, x]", "account 'x': the fake already has an account named 'x'"),
        (
            "sites: [a]\ngrants: [{account: x, site: b, permissions: [EDIT]}]",
            "grant of 'b' to 'x': Site with alias 'b' doesn't exist",
        ),
        (
            "sites: [a]\ngrants: [{account: x, site: a, permissions: [FLY]}]",
            "grant of 'a' to 'x': Unknown permissions: FLY",
        ),
        ("site: [a]", "not a Duda fake seed: site: Extra inputs are not permitted"),
        ("sites: [{plan: 1}]", "not a Duda fake seed: sites.0.SeedSite.name: Field required"),
        ("sites: [a\n", "not a Duda fake seed: while parsing a flow sequence"),
    ],
)
def test_a_bad_seed_file_is_an_error_that_names_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError) as raised:
        DudaFake().seed(path)
    assert str(raised.value) == f"{path}: {message}"


def test_a_missing_seed_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read the seed file"):
        load_seed(tmp_path / "absent.yaml")


# --- the command line ----------------------------------------------------------------------


def _serve(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "duda.fake", *args],
        env={**os.environ, "PYTHONPATH": str(TESTS), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, process: subprocess.Popen[str]) -> str:
    while not path.exists() or not path.read_text(encoding="utf-8").endswith("\n"):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)  # waiting for the child to start, not timing anything
    return path.read_text(encoding="utf-8").strip()


def test_the_command_line_serves_a_seed_with_the_environments_credentials(
    tmp_path: Path,
) -> None:
    url_file = tmp_path / "url"
    env = {"DUDA_API_USER": "cli-user", "DUDA_API_PASS": "cli-secret-pass"}
    args = ["--seed", str(EXAMPLE_SEED), "--url-file", str(url_file), "--grant-shape", "list"]
    process = _serve(*args, env=env)
    try:
        url = _wait_for(url_file, process)
        path = "/accounts/ann@acme.example/sites/acme-bakery/permissions"
        answer = requests.get(url + path, auth=("cli-user", "cli-secret-pass"), timeout=10)
        assert answer.json() == ["STATS_TAB", "EDIT", "PUBLISH"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out == f"Duda fake on {url} (counts: {url.removesuffix('/api')}/_fake/stats)\n"
    assert "cli-secret-pass" not in out + err
    assert FAKE_PASSWORD not in out + err


def test_the_command_line_refuses_a_bad_seed_with_exit_1(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("sites: [{name: a, plan: 3}]\n", encoding="utf-8")
    process = _serve("--seed", str(seed), env={})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err == f"error: {seed}: site 'a': Plan with id '3' doesn't exist\n"
    assert out == ""


def test_the_command_line_on_a_taken_port_is_exit_1_with_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve("--port", str(port), env={})
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err == (
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use; "
        "choose another --port, or --port 0 for a free one\n"
    )
    assert out == ""
