"""Batches of dry runs (DESIGN.md section 6): ``POST /v1/dry-runs`` answers each write
exactly as that write with ``?dry_run=true`` would, in order, in one request, with a
read token, changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from sandbox_support import ANNA, BEN, READ_TOKENS, RIVAL, STUDIO, TOKENS, TOM

from reconciler.model import Package
from reconciler.platform.schema import DryRunBatch, DryRunResults, ProblemDetails
from reconciler.sandbox.openapi import document
from reconciler.sandbox.server import ThreadedSandbox

Http = Callable[..., requests.Response]
SITE = "/v1/sites/acme-bakery"
STUDIO_READ = READ_TOKENS[STUDIO]


def pending_transfer(http: Http) -> str:
    response = http("POST", f"{SITE}/transfers", TOKENS[STUDIO], json={"to": ANNA})
    assert response.status_code == 201
    return str(response.json()["id"])


def writes_of(transfer_id: str) -> list[dict[str, Any]]:
    """Writes of every kind, accepted and refused (a rule, If-Match, a malformed body, a
    site the studio may not see, no such route or method)."""
    return [
        {"method": "PUT", "path": f"{SITE}/collaborators/{BEN}", "body": {"role": "editor"}},
        {"method": "PUT", "path": f"{SITE}/collaborators/{BEN}", "body": {"role": "boss"}},
        {"method": "PUT", "path": f"{SITE}/collaborators/anna", "body": {"role": "viewer"}},
        {"method": "DELETE", "path": f"{SITE}/collaborators/{TOM}"},
        {"method": "DELETE", "path": f"{SITE}/collaborators/{BEN}"},
        {
            "method": "PUT",
            "path": f"{SITE}/billing-contact",
            "body": {"email": ANNA},
            "if_match": '"2"',
        },
        {
            "method": "PUT",
            "path": f"{SITE}/billing-contact",
            "body": {"email": ANNA},
            "if_match": '"9"',
        },
        {
            "method": "PUT",
            "path": f"{SITE}/billing-contact",
            "body": {"email": ANNA},
            "if_match": 'W/"2"',
        },
        {"method": "POST", "path": f"{SITE}/transfers", "body": {"to": BEN}},
        {"method": "DELETE", "path": f"{SITE}/transfers/{transfer_id}", "if_match": "*"},
        {"method": "DELETE", "path": f"{SITE}/transfers/tr_none"},
        {"method": "POST", "path": f"/v1/transfers/{transfer_id}/accept"},
        {"method": "POST", "path": f"/v1/transfers/{transfer_id}/decline"},
        {"method": "POST", "path": f"{SITE}/purchases", "body": {"package": "premium"}},
        {"method": "POST", "path": f"{SITE}/purchases", "body": {"package": "free"}},
        {"method": "POST", "path": f"{SITE}/purchases"},
        {
            "method": "POST",
            "path": "/v1/sites/rivals-site/purchases",
            "body": {"package": "premium"},
        },
        {"method": "POST", "path": "/v1/sites/nope/transfers", "body": {"to": ANNA}},
        {"method": "POST", "path": "/v1/nowhere"},
        {"method": "DELETE", "path": f"{SITE}/billing-contact"},
        {"method": "PUT", "path": f"{SITE}/collaborators/{BEN}", "body": [[[]]]},
    ]


def single_dry_run(http: Http, token: str, write: dict[str, Any]) -> dict[str, Any]:
    """What the write answers alone with ?dry_run=true, as a batch result."""
    headers = {} if write.get("if_match") is None else {"If-Match": write["if_match"]}
    answer = http(
        write["method"], write["path"] + "?dry_run=true", token, headers, write.get("body")
    )
    problem = answer.json() if answer.status_code >= 400 else None
    return {"status": answer.status_code, "problem": problem}


def state(sandbox: ThreadedSandbox) -> tuple[object, ...]:
    store = sandbox.store
    return (
        store.site("acme-bakery"),
        store.transfers_of("acme-bakery"),
        store.invoices_of("acme-bakery"),
    )


@pytest.fixture
def rivals_site(sandbox: ThreadedSandbox) -> None:
    with sandbox.store.transaction() as tx:
        tx.put_site(
            "rivals-site",
            name="Rival's",
            owner=RIVAL,
            billing_contact=RIVAL,
            package=Package.FREE,
            collaborators={},
        )


@pytest.mark.usefixtures("rivals_site")
@pytest.mark.parametrize("who", [STUDIO, ANNA])
@pytest.mark.parametrize("token_kind", ["read", "write"])
def test_each_result_is_what_the_single_dry_run_answers(
    http: Http, sandbox: ThreadedSandbox, who: str, token_kind: str
) -> None:
    token = READ_TOKENS.get(who, TOKENS[who]) if token_kind == "read" else TOKENS[who]
    writes = writes_of(pending_transfer(http))
    before = state(sandbox)

    batch = http("POST", "/v1/dry-runs", token, json={"writes": writes})

    assert batch.status_code == 200, batch.text
    assert batch.headers["Content-Type"] == "application/json"
    results = batch.json()["results"]
    assert state(sandbox) == before  # nothing changed, nothing charged
    assert results == [single_dry_run(http, token, write) for write in writes]
    assert state(sandbox) == before
    DryRunResults.model_validate(batch.json())


@pytest.mark.usefixtures("rivals_site")
def test_the_results_say_what_preflight_needs(http: Http) -> None:
    """A refusal comes with the platform's reason; a site the caller may not see is 404."""
    writes = writes_of(pending_transfer(http))
    results = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes}).json()["results"]
    by_path = {
        (w["method"], w["path"], str(w.get("body"))): r
        for w, r in zip(writes, results, strict=True)
    }

    assert by_path[("PUT", f"{SITE}/collaborators/{BEN}", "{'role': 'editor'}")] == {
        "status": 200,
        "problem": None,
    }
    refused = by_path[("POST", f"{SITE}/transfers", "{'to': " + repr(BEN) + "}")]
    assert refused["status"] == 409
    assert "already has a pending transfer" in refused["problem"]["detail"]
    hidden = by_path[("POST", "/v1/sites/rivals-site/purchases", "{'package': 'premium'}")]
    assert hidden == {
        "status": 404,
        "problem": {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "There is no site 'rivals-site', or you may not see it.",
        },
    }
    assert [r["status"] for r in results[-3:]] == [404, 405, 422]


def test_a_batch_is_one_request(http: Http) -> None:
    writes = [{"method": "PUT", "path": f"{SITE}/billing-contact", "body": {"email": ANNA}}] * 500
    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})
    assert [r["status"] for r in batch.json()["results"]] == [200] * 500
    stats = http("GET", "/sandbox/stats").json()
    assert stats["by_route"] == {"POST /v1/dry-runs": 1}


def test_more_than_500_writes_are_refused(http: Http) -> None:
    writes = [{"method": "DELETE", "path": f"{SITE}/collaborators/{TOM}"}] * 501
    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})
    assert batch.status_code == 422
    assert batch.headers["Content-Type"] == "application/problem+json"
    assert batch.json()["detail"] == (
        "body.writes: List should have at most 500 items after validation, not 501"
    )


@pytest.mark.parametrize(
    ("writes", "detail"),
    [
        (
            [{"method": "GET", "path": "/v1/me"}],
            "body.writes.0.method: Input should be 'PUT', 'POST' or 'DELETE'",
        ),
        (
            [{"method": "PUT", "path": f"{SITE}/billing-contact?dry_run=false"}],
            "body.writes.0.path: String should match pattern '^/v1/[^?#]*$'",
        ),
        (
            [{"method": "PUT", "path": "v1/sites"}],
            "body.writes.0.path: String should match pattern",
        ),
        (
            [{"method": "PUT", "path": f"{SITE}/billing-contact", "ifmatch": '"1"'}],
            "body.writes.0.ifmatch: Extra inputs are not permitted",
        ),
    ],
)
def test_a_malformed_batch_is_422(http: Http, writes: list[dict[str, Any]], detail: str) -> None:
    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})
    assert batch.status_code == 422
    assert detail in batch.json()["detail"]


def test_a_batch_holds_no_batch(http: Http) -> None:
    inner = {"method": "POST", "path": "/v1/dry-runs", "body": {"writes": []}}
    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": [inner]})
    assert batch.json()["results"] == [
        {
            "status": 422,
            "problem": {
                "type": "about:blank",
                "title": "Unprocessable Content",
                "status": 422,
                "detail": "POST /v1/dry-runs is not a write; a batch holds writes only.",
            },
        }
    ]


def test_an_empty_batch_has_no_results(http: Http) -> None:
    assert http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": []}).json() == {"results": []}


def test_a_batch_needs_a_token(http: Http) -> None:
    writes = [{"method": "DELETE", "path": f"{SITE}/collaborators/{TOM}"}]
    batch = http("POST", "/v1/dry-runs", json={"writes": writes})
    assert batch.status_code == 401
    assert batch.headers["WWW-Authenticate"] == "Bearer"


def test_the_batch_is_in_the_wire_schema_and_the_document() -> None:
    batch = DryRunBatch.model_validate(
        {
            "writes": [
                {
                    "method": "POST",
                    "path": f"{SITE}/transfers",
                    "body": {"to": ANNA},
                    "if_match": '"3"',
                }
            ]
        }
    )
    assert batch.writes[0].if_match == '"3"'
    assert ProblemDetails.model_fields.keys() <= set(
        document()["components"]["schemas"]["ProblemDetails"]["properties"]
    )
    operation = document()["paths"]["/v1/dry-runs"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DryRunBatch"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/DryRunResults"}
    writes = document()["components"]["schemas"]["DryRunBatch"]["properties"]["writes"]
    assert writes["maxItems"] == 500


@pytest.mark.usefixtures("rivals_site")
def test_a_batch_is_answered_in_one_database_transaction(
    http: Http, sandbox: ThreadedSandbox
) -> None:
    """Its cost (issue 20): the clock, the expiries and the renewals once per batch, not
    once per dry run and again per token lookup. The answers are the single dry runs'
    (above); this counts the transactions SQLite is asked to begin."""
    writes = writes_of(pending_transfer(http)) * 5
    begun: list[str] = []
    sandbox.store._conn.set_trace_callback(  # what SQLite is told
        lambda statement: begun.append(statement) if statement.startswith("BEGIN") else None
    )

    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})

    sandbox.store._conn.set_trace_callback(None)
    assert batch.status_code == 200, batch.text
    assert len(batch.json()["results"]) == len(writes)
    assert len(begun) == 2  # the batch request's own token lookup, then the batch


@pytest.mark.usefixtures("rivals_site")
@pytest.mark.parametrize("token", [STUDIO_READ, TOKENS[STUDIO], TOKENS[ANNA]])
def test_a_batch_looks_its_token_up_once_and_runs_each_write_in_one_savepoint(
    http: Http, sandbox: ThreadedSandbox, token: str
) -> None:
    """What a batch shares between its writes (issue 20): the grant of its one
    Authorization, found once (the results are still each the single dry run's, above,
    a read token's writes included); and each write runs in one savepoint, rolled back,
    not in three nested ones."""
    writes = writes_of(pending_transfer(http))
    said: list[str] = []
    sandbox.store._conn.set_trace_callback(said.append)

    batch = http("POST", "/v1/dry-runs", token, json={"writes": writes})

    sandbox.store._conn.set_trace_callback(None)
    assert batch.status_code == 200, batch.text
    lookups = [s for s in said if "FROM accounts WHERE token" in s]
    assert len(lookups) == 2  # the batch request's own, then the batch's
    savepoints = [s for s in said if s.startswith("SAVEPOINT")]
    assert savepoints.count("SAVEPOINT unit") == 1  # the token lookup's
    assert 0 < savepoints.count("SAVEPOINT dry_run") == said.count("ROLLBACK TO dry_run")
    assert savepoints.count("SAVEPOINT dry_run") == len(savepoints) - 1 <= len(writes)
    assert results_of(batch) == [single_dry_run(http, token, write) for write in writes]


def results_of(batch: requests.Response) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = batch.json()["results"]
    return results


def test_a_batch_that_finds_nothing_due_is_rolled_back_and_writes_no_wal(
    http: Http, sandbox: ThreadedSandbox
) -> None:
    """Its dry runs undid their writes, but SQLite keeps the pages they touched dirty: a
    commit would write them all to the WAL again (issue 20). Nothing is due, so nothing
    is kept: the batch ends in a rollback, and the WAL does not grow."""
    writes = writes_of(pending_transfer(http)) * 10
    wal = sandbox.db_path.with_name(sandbox.db_path.name + "-wal")
    before, size = state(sandbox), wal.stat().st_size
    said: list[str] = []
    sandbox.store._conn.set_trace_callback(said.append)

    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})

    sandbox.store._conn.set_trace_callback(None)
    assert batch.status_code == 200, batch.text
    ends = [statement for statement in said if statement in ("COMMIT", "ROLLBACK")]
    assert ends == ["COMMIT", "ROLLBACK"]  # the batch request's token lookup, the batch
    assert wal.stat().st_size == size
    assert state(sandbox) == before


def test_what_a_batch_finds_due_is_kept(http: Http, sandbox: ThreadedSandbox) -> None:
    """A batch expires a transfer past its expiry before its dry runs, and keeps that, as
    a single dry run does: the transaction commits when its start changed something."""
    transfer_id = pending_transfer(http)
    sandbox.store.advance_clock(15)
    writes = [{"method": "POST", "path": f"{SITE}/transfers", "body": {"to": BEN}}]

    batch = http("POST", "/v1/dry-runs", STUDIO_READ, json={"writes": writes})

    assert batch.json()["results"] == [{"status": 201, "problem": None}]
    (expired,) = sandbox.store.transfers_of("acme-bakery")
    assert (expired.id, expired.status.value) == (transfer_id, "expired")
    assert expired.ended_at == expired.expires_at
    assert sandbox.store.transfers_of("acme-bakery") == [expired]  # the dry run's undone
