"""The embedded sandbox's plain server answers exactly as the FastAPI app does.

The two fronts share the store, the wire schema and the write helper; what each does
alone is parsing a request. The same requests, odd ones first, go to both, seeded
alike with the same clock, and their answers are compared byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sandbox_support import ANNA, READ_TOKENS, STUDIO, TOKENS, FakeClock, seed_people

from reconciler.sandbox.plain import PlainSandbox
from reconciler.sandbox.server import EmbeddedSandbox

STUDIO_AUTH = {"Authorization": f"Bearer {TOKENS[STUDIO]}"}
READ_AUTH = {"Authorization": f"Bearer {READ_TOKENS[STUDIO]}"}
JSON_AUTH = {**STUDIO_AUTH, "Content-Type": "application/json; charset=utf-8"}
SITE = "/v1/sites/acme-bakery"
Request = tuple[str, str, dict[str, str], Any]
RANDOM_ID = re.compile(rb"\b(pu|in|tr)_[0-9a-f]{20}\b")

REQUESTS: dict[str, Request] = {
    "no token": ("GET", "/v1/me", {}, None),
    "another scheme": ("GET", "/v1/me", {"Authorization": f"Basic {TOKENS[STUDIO]}"}, None),
    "empty token": ("GET", "/v1/me", {"Authorization": "Bearer "}, None),
    "lower-case scheme": ("GET", "/v1/me", {"Authorization": f"bearer {TOKENS[STUDIO]}"}, None),
    "no such route": ("GET", "/v1/nothing", STUDIO_AUTH, None),
    "no such method": ("PATCH", SITE, STUDIO_AUTH, None),
    "head": ("HEAD", "/v1/me", STUDIO_AUTH, None),
    "options": ("OPTIONS", "/v1/sites", STUDIO_AUTH, None),
    "limit not a number": ("GET", "/v1/sites?limit=many", STUDIO_AUTH, None),
    "limit twice": ("GET", "/v1/sites?limit=1&limit=2", STUDIO_AUTH, None),
    "cursor too long": ("GET", "/v1/sites?cursor=" + "x" * 1001, STUDIO_AUTH, None),
    "empty cursor": ("GET", "/v1/sites?cursor=", STUDIO_AUTH, None),
    "unknown site": ("GET", "/v1/sites/nope", STUDIO_AUTH, None),
    "escaped path": ("GET", "/v1/sites/acme%2Dbakery", STUDIO_AUTH, None),
    "no body": ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_AUTH, b""),
    "not json": ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_AUTH, b"{role"),
    "broken json": ("PUT", f"{SITE}/collaborators/{ANNA}", JSON_AUTH, b'{"role": '),
    "json not in utf-8": ("PUT", f"{SITE}/collaborators/{ANNA}", JSON_AUTH, b"\xff\xfe"),
    "broken json, no token": (
        "PUT",
        f"{SITE}/collaborators/{ANNA}",
        {"Content-Type": "application/json"},
        b"{",
    ),
    "a list": ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_AUTH, []),
    "unknown role": ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_AUTH, {"role": "boss"}),
    "extra field": ("PUT", f"{SITE}/collaborators/{ANNA}", STUDIO_AUTH, {"role": "viewer", "x": 1}),
    "bad e-mail in path": ("PUT", f"{SITE}/collaborators/anna", STUDIO_AUTH, {"role": "viewer"}),
    "escaped e-mail": (
        "PUT",
        f"{SITE}/collaborators/anna%40acme-bakery.example",
        STUDIO_AUTH,
        {"role": "viewer"},
    ),
    "bad token and bad body": ("PUT", f"{SITE}/collaborators/{ANNA}", {}, {"role": "boss"}),
    "long key": (
        "PUT",
        f"{SITE}/billing-contact",
        {**STUDIO_AUTH, "Idempotency-Key": "k" * 256},
        {"email": ANNA},
    ),
    "bad if-match": (
        "DELETE",
        f"{SITE}/collaborators/tom@freelance.example",
        {**STUDIO_AUTH, "If-Match": "one"},
        None,
    ),
    "stale if-match": (
        "PUT",
        f"{SITE}/billing-contact",
        {**STUDIO_AUTH, "If-Match": '"9"'},
        {"email": ANNA},
    ),
    "write": (
        "PUT",
        f"{SITE}/billing-contact",
        {**STUDIO_AUTH, "If-Match": 'W/"1"'},
        {"email": ANNA},
    ),
    "delete": ("DELETE", f"{SITE}/collaborators/tom@freelance.example", STUDIO_AUTH, None),
    "purchase": ("POST", f"{SITE}/purchases", STUDIO_AUTH, {"package": "premium"}),
    "invoices": ("GET", f"{SITE}/invoices", STUDIO_AUTH, None),
    "invoices of another's site": (
        "GET",
        f"{SITE}/invoices",
        {"Authorization": f"Bearer {TOKENS[ANNA]}"},
        None,
    ),
    "transfer to nobody": ("POST", f"{SITE}/transfers", STUDIO_AUTH, {"to": "x@nowhere.example"}),
    "accept what is not there": ("POST", "/v1/transfers/tr_x/accept", STUDIO_AUTH, None),
    "listing": ("GET", "/v1/sites?limit=1", STUDIO_AUTH, None),
    "dry run not a boolean": (
        "POST",
        f"{SITE}/transfers?dry_run=perhaps",
        STUDIO_AUTH,
        {"to": ANNA},
    ),
    "dry run, read token": ("POST", f"{SITE}/transfers?dry_run=1", READ_AUTH, {"to": ANNA}),
    "write, read token": ("POST", f"{SITE}/transfers", READ_AUTH, {"to": ANNA}),
    "dry run refused": ("POST", f"{SITE}/purchases?dry_run=true", READ_AUTH, {"package": "free"}),
    "sent transfers": ("GET", "/v1/transfers?direction=sent&limit=1", STUDIO_AUTH, None),
    "no direction": ("GET", "/v1/transfers", STUDIO_AUTH, None),
    "site transfers": ("GET", f"{SITE}/transfers", STUDIO_AUTH, None),
    "stats": ("GET", "/sandbox/stats", {}, None),
}


@pytest.fixture
def fronts(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The base URLs of the FastAPI app and of the plain server, seeded alike."""
    with (
        EmbeddedSandbox(tmp_path / "fastapi.db", clock=FakeClock()) as fastapi,
        PlainSandbox(tmp_path / "plain.db", clock=FakeClock()) as plain,
    ):
        seed_people(fastapi)
        seed_people(plain)
        yield fastapi.url, plain.url


def answer(session: requests.Session, base: str, request: Request) -> tuple[object, ...]:
    method, path, headers, body = request
    if isinstance(body, bytes):
        sent = session.request(method, base + path, headers=headers, data=body, timeout=10)
    else:
        sent = session.request(method, base + path, headers=headers, json=body, timeout=10)
    kept = ("Content-Type", "ETag", "WWW-Authenticate", "Allow", "Date")
    content = RANDOM_ID.sub(b"<id>", sent.content)  # purchases and invoices get new ids
    body = json.loads(content) if content else None  # the same JSON, keys in any order
    return sent.status_code, {name: sent.headers.get(name) for name in kept}, body


def test_both_fronts_answer_every_request_alike(fronts: tuple[str, str]) -> None:
    fastapi, plain = fronts
    with requests.Session() as session:
        for name, request in REQUESTS.items():  # in order: the writes build on each other
            expected = answer(session, fastapi, request)
            assert answer(session, plain, request) == expected, name


def test_the_plain_server_serves_the_apps_openapi_document(fronts: tuple[str, str]) -> None:
    served = [requests.get(f"{base}/openapi.json", timeout=30).json() for base in fronts]
    assert served[0] == served[1]
    assert "/v1/sites/{site_id}/collaborators/{email}" in served[1]["paths"]
