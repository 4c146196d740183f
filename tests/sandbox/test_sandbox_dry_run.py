"""``?dry_run=true`` on every write, and token scopes (DESIGN section 6, rule 11).

A dry run answers exactly as the write would (status, problem, ETag), changes nothing,
charges nothing and keeps no idempotency key; a read token may dry-run but not write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from sandbox_support import ANNA, BEN, READ_TOKENS, STUDIO, TOKENS, TOM

from reconciler.model import Package
from reconciler.platform.client import PlatformClient
from reconciler.platform.errors import Conflict, Forbidden, StaleVersion
from reconciler.sandbox.server import ThreadedSandbox

Http = Callable[..., requests.Response]
SITE = "/v1/sites/acme-bakery"
STUDIO_TOKEN, STUDIO_READ = TOKENS[STUDIO], READ_TOKENS[STUDIO]


def start_pending(http: Http) -> str:
    response = http("POST", f"{SITE}/transfers", STUDIO_TOKEN, json={"to": ANNA})
    assert response.status_code == 201
    return str(response.json()["id"])


# (name, set-up returning the transfer id or None, method, path, token, body)
WRITES: list[tuple[str, bool, str, str, str, dict[str, Any] | None]] = [
    ("put collaborator", False, "PUT", f"{SITE}/collaborators/{BEN}", STUDIO, {"role": "editor"}),
    ("delete collaborator", False, "DELETE", f"{SITE}/collaborators/{TOM}", STUDIO, None),
    ("billing contact", False, "PUT", f"{SITE}/billing-contact", STUDIO, {"email": ANNA}),
    ("start transfer", False, "POST", f"{SITE}/transfers", STUDIO, {"to": ANNA}),
    ("cancel transfer", True, "DELETE", f"{SITE}/transfers/{{id}}", STUDIO, None),
    ("accept transfer", True, "POST", "/v1/transfers/{id}/accept", ANNA, None),
    ("decline transfer", True, "POST", "/v1/transfers/{id}/decline", ANNA, None),
    ("purchase", False, "POST", f"{SITE}/purchases", STUDIO, {"package": "premium"}),
]


def state(sandbox: ThreadedSandbox) -> tuple[object, ...]:
    store = sandbox.store
    return (
        store.site("acme-bakery"),
        store.transfers_of("acme-bakery"),
        store.invoices_of("acme-bakery"),
    )


def comparable(response: requests.Response) -> tuple[object, ...]:
    """What a dry run must share with the write: status, ETag, body without new ids."""
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in {"id", "invoice_id"}}
    return (response.status_code, response.headers.get("ETag"), body)


@pytest.mark.parametrize(
    ("setup", "method", "path", "who", "body"),
    [write[1:] for write in WRITES],
    ids=[write[0] for write in WRITES],
)
@pytest.mark.parametrize("token_kind", ["write", "read"])
def test_a_dry_run_answers_as_the_write_would_and_changes_nothing(
    http: Http,
    sandbox: ThreadedSandbox,
    setup: bool,
    method: str,
    path: str,
    who: str,
    body: dict[str, Any] | None,
    token_kind: str,
) -> None:
    if setup:
        path = path.format(id=start_pending(http))
    token = READ_TOKENS.get(who, TOKENS[who]) if token_kind == "read" else TOKENS[who]
    before = state(sandbox)
    key = {"Idempotency-Key": "the-same-key"}
    dry = http(method, f"{path}?dry_run=true", token, key, body)
    assert dry.status_code < 300, dry.text
    assert state(sandbox) == before  # nothing changed, nothing charged
    real = http(method, path, TOKENS[who], key, body)  # the key was not kept by the dry run
    assert comparable(dry) == comparable(real)
    assert state(sandbox) != before


@pytest.mark.parametrize(
    ("method", "path", "token", "headers", "body", "status", "detail"),
    [
        ("POST", f"{SITE}/transfers", STUDIO_TOKEN, {}, {"to": "new@client.example"}, 409,
         "There is no account for new@client.example: the client must sign up first"),
        ("POST", f"{SITE}/purchases", TOKENS[ANNA], {}, {"package": "premium"}, 404,
         "There is no site 'acme-bakery', or you may not see it."),
        ("POST", f"{SITE}/purchases", STUDIO_TOKEN, {}, {"package": "free"}, 409,
         "already has the free package"),
        ("PUT", f"{SITE}/billing-contact", STUDIO_TOKEN, {"If-Match": '"9"'}, {"email": ANNA},
         412, "is at version 1, not 9"),
        ("PUT", f"{SITE}/collaborators/{ANNA}", "nobody-token", {}, {"role": "viewer"}, 401,
         "unknown or revoked"),
        ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_TOKEN, {}, {"role": "boss"}, 422,
         "body.role: Input should be"),
    ],
)  # fmt: skip
def test_a_dry_run_is_refused_exactly_as_the_write(
    http: Http,
    sandbox: ThreadedSandbox,
    method: str,
    path: str,
    token: str,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    dry = http(method, f"{path}?dry_run=true", token, headers, body)
    real = http(method, path, token, headers, body)
    assert (dry.status_code, dry.headers["Content-Type"]) == (status, "application/problem+json")
    assert detail in dry.json()["detail"]
    assert dry.json() == real.json()


def test_a_dry_run_also_checks_the_cap(http: Http) -> None:
    http("PUT", f"{SITE}/collaborators/{BEN}", STUDIO_TOKEN, json={"role": "viewer"})
    dry = http(
        "PUT", f"{SITE}/collaborators/{ANNA}?dry_run=true", STUDIO_READ, json={"role": "viewer"}
    )
    assert dry.status_code == 409
    assert "allows at most 2 collaborators" in dry.json()["detail"]


def test_a_dry_run_keeps_no_key_and_replays_none(http: Http, sandbox: ThreadedSandbox) -> None:
    key = {"Idempotency-Key": "buy-once"}
    body = {"package": "premium"}
    real = http("POST", f"{SITE}/purchases", STUDIO_TOKEN, key, body)
    assert real.status_code == 201
    # A dry run with the key of a done write is not a replay: it asks the platform now.
    dry = http("POST", f"{SITE}/purchases?dry_run=true", STUDIO_TOKEN, key, body)
    assert dry.status_code == 409
    assert len(sandbox.store.invoices_of("acme-bakery")) == 1


def test_a_read_token_reads_but_may_not_write(http: Http, sandbox: ThreadedSandbox) -> None:
    assert http("GET", "/v1/me", STUDIO_READ).json() == {"email": STUDIO, "kind": "expert"}
    assert http("GET", "/v1/sites", STUDIO_READ).status_code == 200
    assert http("GET", SITE, STUDIO_READ).status_code == 200
    before = state(sandbox)
    for method, path, _, body in [(w[2], w[3], w[4], w[5]) for w in WRITES if not w[1]]:
        refused = http(method, path, STUDIO_READ, {"Idempotency-Key": "k"}, body)
        assert refused.status_code == 403, path
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["detail"] == (
            "This token has the read scope: it may read and dry-run (?dry_run=true) but not "
            "write. Use the account's write token."
        )
    assert state(sandbox) == before
    # Not remembered under the key either: the write token may use it.
    ok = http("PUT", f"{SITE}/collaborators/{BEN}", STUDIO_TOKEN, {"Idempotency-Key": "k"},
              {"role": "editor"})  # fmt: skip
    assert ok.status_code == 200


def test_every_write_in_the_openapi_document_offers_dry_run(http: Http) -> None:
    document = http("GET", "/openapi.json").json()
    writes = [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"put", "post", "delete"} and operation["operationId"] != "dry_runs"
    ]
    assert len(writes) == 8
    for operation in writes:
        names = [parameter["name"] for parameter in operation["parameters"]]
        assert "dry_run" in names, operation["operationId"]


# -- through the client --


def test_the_client_dry_runs_a_handover_and_a_purchase(sandbox: ThreadedSandbox) -> None:
    with PlatformClient(sandbox.url, STUDIO_READ) as client:
        refusal = client.dry_run_start_transfer("acme-bakery", "new@client.example", True)
        assert isinstance(refusal, Conflict)
        assert refusal.status == 409
        assert refusal.detail == (
            "There is no account for new@client.example: the client must sign up first, "
            "then start the transfer again."
        )
        assert client.dry_run_start_transfer("acme-bakery", ANNA, True) is None
        assert client.dry_run_purchase("acme-bakery", Package.PREMIUM) is None
        stale = client.dry_run_purchase("acme-bakery", Package.PREMIUM, if_match=7)
        assert isinstance(stale, StaleVersion)
        assert client.get_site("acme-bakery").pending_transfer is None
        with pytest.raises(Forbidden, match="This token has the read scope"):
            client.purchase("acme-bakery", Package.PREMIUM)
    with PlatformClient(sandbox.url, STUDIO_TOKEN) as client:
        client.purchase("acme-bakery", Package.PREMIUM)
        again = client.dry_run_purchase("acme-bakery", Package.PREMIUM)
        assert isinstance(again, Conflict)
        assert again.detail == "Site 'acme-bakery' already has the premium package."
    assert len(sandbox.store.invoices_of("acme-bakery")) == 1
