"""Property-based tests of every route against the sandbox's own OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from sandbox_support import STUDIO, TOKENS, seed_people
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reconciler.platform.schema import EMAIL_WIRE_PATTERN
from reconciler.sandbox.openapi import document
from reconciler.sandbox.server import ThreadedSandbox

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(tmp_path_factory.mktemp("openapi") / "sandbox.db") as sandbox:
        seed_people(sandbox)
        yield sandbox


# The document the sandbox serves, made from the route table without a running server
# (schemathesis' lazy ``from_fixture`` loader does not work with this pytest version;
# ``test_the_served_document_is_the_tested_one`` checks both documents are the same).
DOCUMENT = document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_served_document_is_the_tested_one(live_sandbox: ThreadedSandbox) -> None:
    with requests.get(f"{live_sandbox.url}/openapi.json", timeout=10) as response:
        assert response.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_conforms_to_the_document(case: Any, live_sandbox: ThreadedSandbox) -> None:
    case.call_and_validate(
        base_url=live_sandbox.url,
        headers={"Authorization": f"Bearer {TOKENS[STUDIO]}"},
        checks=CHECKS,
    )


def _parameter(path: str, method: str, name: str) -> dict[str, Any]:
    operation = DOCUMENT["paths"][path][method]
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_the_document_states_the_forms_the_sandbox_accepts() -> None:
    """What a generator needs to make requests the sandbox accepts (issue 10 item 13)."""
    collaborator = "/v1/sites/{site_id}/collaborators/{email}"
    email = _parameter(collaborator, "put", "email")["schema"]
    assert email["pattern"] == EMAIL_WIRE_PATTERN
    assert email["maxLength"] == 254
    body = DOCUMENT["components"]["schemas"]["TransferRequest"]["properties"]["to"]
    assert body["pattern"] == EMAIL_WIRE_PATTERN
    cursor = _parameter("/v1/sites", "get", "cursor")["schema"]
    assert cursor["pattern"] == "^YWZ0ZXI6[A-Za-z0-9_-]*$"
    if_match = _parameter(collaborator, "put", "If-Match")
    assert "any other tag is answered 412" in if_match["description"]
    key = _parameter(collaborator, "put", "Idempotency-Key")
    assert "for a different request is 409" in key["description"]
    assert "409" in DOCUMENT["paths"]["/v1/transfers/{transfer_id}/accept"]["post"]["responses"]


def test_a_started_transfer_links_to_accepting_declining_and_cancelling_it() -> None:
    started = DOCUMENT["paths"]["/v1/sites/{site_id}/transfers"]["post"]["responses"]["201"]
    links = {name: link["operationId"] for name, link in started["links"].items()}
    assert links == {"accept": "accept_transfer", "decline": "decline_transfer",
                     "cancel": "cancel_transfer"}  # fmt: skip
    assert started["links"]["cancel"]["parameters"] == {
        "site_id": "$request.path.site_id",
        "transfer_id": "$response.body#/id",
    }
    operation_ids = {
        op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()
    }
    assert set(links.values()) <= operation_ids


def test_every_rate_limited_answer_declares_the_ratelimit_fields() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if "$ref" in response or path == "/sandbox/stats":  # the edge's; unlimited
                    continue
                assert {"RateLimit", "RateLimit-Policy"} <= set(response["headers"]), (
                    method, path, status,
                )  # fmt: skip
    retry = DOCUMENT["paths"]["/v1/me"]["get"]["responses"]["429"]["headers"]["Retry-After"]
    assert retry["schema"] == {"type": "integer", "minimum": 0}


def test_every_path_parameter_and_body_has_an_example() -> None:
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "path":
                    assert "example" in parameter or "examples" in parameter, parameter
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert "example" in body, operation["operationId"]
