"""The HTTP contract: tokens, problems, ETag/If-Match, Idempotency-Key, pages, stats."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
import requests
from sandbox_support import ANNA, STUDIO, TOKENS

from reconciler.model import Package, Role
from reconciler.sandbox.server import ThreadedSandbox

Http = Callable[..., requests.Response]
STUDIO_TOKEN = TOKENS[STUDIO]
SITE_PATH = "/v1/sites/acme-bakery"


def assert_problem(response: requests.Response, status: int, detail_part: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert detail_part in body["detail"]


@pytest.mark.parametrize(
    ("token", "detail"),
    [(None, "Authorization: Bearer <token>"), ("wrong-token", "unknown or revoked")],
)
def test_a_missing_or_unknown_token_is_401(http: Http, token: str | None, detail: str) -> None:
    response = http("GET", "/v1/me", token=token)
    assert_problem(response, 401, detail)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_is_the_tokens_account(http: Http) -> None:
    assert http("GET", "/v1/me", token=STUDIO_TOKEN).json() == {"email": STUDIO, "kind": "expert"}


def test_unknown_routes_and_methods_answer_problems(http: Http) -> None:
    assert_problem(http("GET", "/v1/nothing-here"), 404, "There is no route /v1/nothing-here")
    assert_problem(http("PATCH", SITE_PATH, token=STUDIO_TOKEN), 405, "PATCH is not allowed")


def test_validation_errors_are_problems_a_human_can_act_on(http: Http) -> None:
    response = http("PUT", f"{SITE_PATH}/collaborators/{ANNA}", STUDIO_TOKEN, json={"role": "boss"})
    assert_problem(response, 422, "body.role: Input should be 'viewer', 'editor' or 'admin'")
    response = http("PUT", f"{SITE_PATH}/billing-contact", STUDIO_TOKEN, json={"email": "nope"})
    assert_problem(response, 422, "'nope' is not a valid e-mail address")


def test_reads_and_writes_carry_the_version_as_etag(http: Http) -> None:
    assert http("GET", SITE_PATH, token=STUDIO_TOKEN).headers["ETag"] == '"1"'
    put = http("PUT", f"{SITE_PATH}/collaborators/{ANNA}", STUDIO_TOKEN, json={"role": "viewer"})
    assert (put.status_code, put.headers["ETag"], put.json()["version"]) == (200, '"2"', 2)
    delete = http("DELETE", f"{SITE_PATH}/collaborators/{ANNA}", STUDIO_TOKEN)
    assert (delete.status_code, delete.headers["ETag"], delete.content) == (204, '"3"', b"")


def test_a_stale_if_match_is_412_and_changes_nothing(http: Http) -> None:
    stale = {"If-Match": '"7"'}
    response = http("PUT", f"{SITE_PATH}/billing-contact", STUDIO_TOKEN, stale, {"email": ANNA})
    assert_problem(response, 412, "is at version 1, not 7")
    current = {"If-Match": '"1"'}
    response = http("PUT", f"{SITE_PATH}/billing-contact", STUDIO_TOKEN, current, {"email": ANNA})
    assert (response.status_code, response.headers["ETag"]) == (200, '"2"')


@pytest.mark.parametrize(
    "tag",
    [
        *["v1", '"stale-version"', '"' + "9" * 4301 + '"', 'W/"1"', '"1 "', '""', '"-1"'],
        *['"\u0661"', '"01"', '"+1"'],
    ],
    ids=[
        *["bare", "word", "4301-digits", "weak", "space", "empty", "negative"],
        *["arabic-digit", "leading-zero", "plus-sign"],
    ],
)
def test_an_if_match_that_names_no_current_version_is_412(
    http: Http, sandbox: ThreadedSandbox, tag: str
) -> None:
    """Entity tags are opaque (RFC 9110 13.1.1), and If-Match compares them strongly."""
    headers = {"If-Match": tag.encode("utf-8").decode("latin-1")}
    path = f"{SITE_PATH}/collaborators/{ANNA}"
    response = http("PUT", path, STUDIO_TOKEN, headers, {"role": "viewer"})
    assert_problem(response, 412, "Site 'acme-bakery' is at version 1, not the one If-Match names")
    assert sandbox.store.site("acme-bakery").version == 1


def test_a_5xx_of_the_sandbox_is_a_problem_and_is_counted(
    http: Http, sandbox: ThreadedSandbox
) -> None:
    with sqlite3.connect(sandbox.db_path) as broken:  # the database loses a table
        broken.execute("DROP TABLE invoices")

    response = http("GET", f"{SITE_PATH}/invoices", token=STUDIO_TOKEN)

    assert_problem(response, 500, "The sandbox failed (OperationalError); see its log.")
    stats = http("GET", "/sandbox/stats").json()
    assert stats["by_status"]["500"] == 1
    assert stats["by_route"]["GET /v1/sites/{site_id}/invoices"] == 1


def test_a_repeated_idempotency_key_replays_the_first_answer(
    http: Http, sandbox: ThreadedSandbox
) -> None:
    headers = {"Idempotency-Key": "buy-1", "If-Match": '"1"'}
    body = {"package": "premium"}
    first = http("POST", f"{SITE_PATH}/purchases", STUDIO_TOKEN, headers, body)
    # The retry's If-Match is now stale (its own first attempt moved the version): the
    # replay happens first, so the retry gets the original answer, not a 412.
    again = http("POST", f"{SITE_PATH}/purchases", STUDIO_TOKEN, headers, body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["ETag"] == again.headers["ETag"] == '"2"'
    assert len(sandbox.store.invoices_of("acme-bakery")) == 1


def test_idempotency_keys_cover_put_and_delete(http: Http) -> None:
    headers = {"Idempotency-Key": "remove-tom"}
    path = f"{SITE_PATH}/collaborators/tom@freelance.example"
    first = http("DELETE", path, STUDIO_TOKEN, headers)
    again = http("DELETE", path, STUDIO_TOKEN, headers)
    assert (first.status_code, again.status_code) == (204, 204)
    assert again.headers["ETag"] == '"2"'


def test_an_idempotency_key_reused_for_another_request_is_409(http: Http) -> None:
    """A conflict with the key's earlier request, not a malformed one: the request itself
    is valid (the OpenAPI document says so), only the key is taken."""
    headers = {"Idempotency-Key": "k-1"}
    http("PUT", f"{SITE_PATH}/collaborators/{ANNA}", STUDIO_TOKEN, headers, {"role": "viewer"})
    response = http(
        "PUT", f"{SITE_PATH}/collaborators/{ANNA}", STUDIO_TOKEN, headers, {"role": "editor"}
    )
    assert_problem(response, 409, "'k-1' was already used for a different request")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", f"{SITE_PATH}/collaborators/{ANNA}", "DELETE, PUT"),
        ("PATCH", f"{SITE_PATH}/collaborators/{ANNA}", "DELETE, PUT"),
        ("GET", f"{SITE_PATH}/purchases", "POST"),
        ("PUT", "/v1/me", "GET"),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    http: Http, method: str, path: str, allow: str
) -> None:
    response = http(method, path, STUDIO_TOKEN)
    assert_problem(response, 405, f"{method} is not allowed on {path}.")
    assert response.headers["Allow"] == allow


def test_any_cursor_of_the_documented_form_is_a_position(http: Http) -> None:
    """Keyset cursors: one this API never gave out still names a place in the order."""
    for cursor in ("YWZ0ZXI6", "YWZ0ZXI6A", "YWZ0ZXI6_-_-", "YWZ0ZXI6" + "z" * 300):
        response = http("GET", f"/v1/sites?cursor={cursor}", token=STUDIO_TOKEN)
        assert response.status_code == 200, (cursor, response.text)
    after_a = http("GET", "/v1/sites?cursor=YWZ0ZXI6YQ", token=STUDIO_TOKEN).json()  # "after:a"
    assert [site["id"] for site in after_a["items"]] == ["acme-bakery"]
    transfers = "/v1/transfers?direction=sent&cursor=dHJhbnNmZXJzIGJlZm9yZTog"
    for tail in ("", "A", "MjA5OQ", "_-_-" * 50):  # "transfers before: " + anything
        response = http("GET", transfers + tail, token=STUDIO_TOKEN)
        assert response.status_code == 200, (tail, response.text)


def test_idempotency_keys_belong_to_one_token(http: Http) -> None:
    headers = {"Idempotency-Key": "same"}
    path = f"{SITE_PATH}/collaborators/{ANNA}"
    mine = http("PUT", path, STUDIO_TOKEN, headers, {"role": "admin"})
    theirs = http("POST", "/v1/transfers/tr_none/accept", TOKENS[ANNA], headers)
    assert mine.status_code == 200
    assert_problem(theirs, 404, "There is no transfer 'tr_none'")


def test_pages_are_sorted_by_id_and_follow_the_cursor(http: Http, sandbox: ThreadedSandbox) -> None:
    with sandbox.store.transaction() as tx:
        for n in (3, 1, 2, 5, 4):
            tx.put_site(
                f"site-{n}", name=f"Site {n}", owner=STUDIO, billing_contact=STUDIO,
                package=Package.FREE, collaborators={ANNA: Role.VIEWER} if n % 2 else {},
            )  # fmt: skip
    seen: list[str] = []
    cursor = None
    while True:
        params = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = http("GET", "/v1/sites" + params, token=STUDIO_TOKEN).json()
        seen += [site["id"] for site in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["acme-bakery", "site-1", "site-2", "site-3", "site-4", "site-5"]
    anna_sites = http("GET", "/v1/sites", token=TOKENS[ANNA]).json()["items"]
    assert [site["id"] for site in anna_sites] == ["site-1", "site-3", "site-5"]
    assert anna_sites[0]["collaborators"] == {ANNA: "viewer"}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?limit=501", "query.limit: Input should be less than or equal to 500"),
        ("?limit=0", "query.limit: Input should be greater than or equal to 1"),
        ("?cursor=garbage", "The cursor is not one this API gave out"),
    ],
)
def test_bad_page_requests_are_422(http: Http, query: str, detail: str) -> None:
    assert_problem(http("GET", "/v1/sites" + query, token=STUDIO_TOKEN), 422, detail)


def test_the_default_page_is_100_sites(http: Http, sandbox: ThreadedSandbox) -> None:
    with sandbox.store.transaction() as tx:
        tx.insert_sites(
            (f"bulk-{n:04d}", "Bulk", STUDIO, STUDIO, Package.FREE, None, {}) for n in range(150)
        )
    page = http("GET", "/v1/sites", token=STUDIO_TOKEN).json()
    assert len(page["items"]) == 100
    assert page["next_cursor"] is not None


def test_stats_count_requests_by_route_template_and_status(http: Http) -> None:
    http("GET", SITE_PATH, token=STUDIO_TOKEN)
    http("GET", "/v1/sites/other", token=STUDIO_TOKEN)
    http("GET", "/v1/me")
    stats = http("GET", "/sandbox/stats").json()
    assert stats == {
        "total": 3,
        "by_route": {"GET /v1/sites/{site_id}": 2, "GET /v1/me": 1},
        "by_status": {"200": 1, "404": 1, "401": 1},
    }


def test_the_openapi_document_describes_problems_and_etags(http: Http) -> None:
    document = http("GET", "/openapi.json").json()
    assert "/docs" not in document["paths"]
    put = document["paths"]["/v1/sites/{site_id}/collaborators/{email}"]["put"]
    assert "application/problem+json" in put["responses"]["412"]["content"]
    assert "ETag" in put["responses"]["200"]["headers"]
    assert "Retry-After" in put["responses"]["429"]["headers"]


@pytest.mark.parametrize("email", ["%00@a.example", "mar%E2%80%8Bco@a.example", "a%5Cb@a.example"])
def test_an_address_the_files_would_refuse_is_refused_by_the_api(http: Http, email: str) -> None:
    response = http(
        "PUT", f"{SITE_PATH}/collaborators/{email}", STUDIO_TOKEN, json={"role": "viewer"}
    )

    assert_problem(response, 422, "is not a valid e-mail address")
    site = http("GET", SITE_PATH, token=STUDIO_TOKEN).json()
    assert all("\x00" not in address and "/" not in address for address in site["collaborators"])
