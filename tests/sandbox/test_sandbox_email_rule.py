"""The OpenAPI document's e-mail rule is the API's (issue 21 item 7): what the pattern
allows the API accepts, and every plain ASCII address the API accepts the pattern
allows (it was narrower: upper case, three dots, a long top-level domain, an apostrophe
were refused by the document and accepted by the API).

The API's rule is ``normalise_email``, which every route applies; a few addresses also
go over real HTTP to the sandbox, as a client sends them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sandbox_support import STUDIO, TOKENS, seed_people

from reconciler.model import normalise_email
from reconciler.platform.schema import EMAIL_WIRE_PATTERN
from reconciler.sandbox.openapi import document
from reconciler.sandbox.server import ThreadedSandbox

RULE = re.compile(EMAIL_WIRE_PATTERN)

NARROWER_BEFORE = [
    "Anna@ACME-Bakery.Example",
    "first.middle.last.jr@acme-bakery.example",
    "o'brien@pub.example",
    "a!b$c&d*e+f=g^h_i`j{k|l}m~n-o@x.example",
    "anna@shop.bakery.acme.co.example",
    "anna@acme.photography",
    "a" * 64 + "@x.example",
    "anna@" + "a" * 63 + ".example",
]
REFUSED = [
    "anna",
    "anna@localhost",
    ".anna@x.example",
    "anna.@x.example",
    "an..na@x.example",
    "a/b@x.example",
    "a%b@x.example",
    "a?b@x.example",
    "a#b@x.example",
    "a\\b@x.example",
    "a@b@x.example",
    "anna@-x.example",
    "anna@x-.example",
    "a" * 65 + "@x.example",
    "Anna <anna@x.example>",
    "anna@x.example.",
]


def accepted(address: str) -> bool:
    try:
        normalise_email(address)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("address", NARROWER_BEFORE)
def test_the_document_allows_what_the_api_accepts(address: str) -> None:
    assert accepted(address)
    assert RULE.match(address)


@pytest.mark.parametrize("address", REFUSED)
def test_the_document_refuses_what_the_api_refuses(address: str) -> None:
    assert not accepted(address)
    assert not RULE.match(address)


@given(st.from_regex(EMAIL_WIRE_PATTERN, fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_every_address_the_pattern_allows_the_api_accepts(address: str) -> None:
    local = address.rpartition("@")[0]
    assume(len(local) <= 64 and len(address) <= 254)  # the one bound the pattern cannot count
    assert accepted(address), address


ADDRESSY = st.text(alphabet="aZ09.-_+!'`#%/?\\@ x", min_size=3, max_size=40)


@given(ADDRESSY)
@settings(max_examples=1000, deadline=None)
def test_every_plain_address_the_api_accepts_the_pattern_allows(address: str) -> None:
    assume(address == address.strip())  # the API also trims spaces around: said in words
    assert accepted(address) == bool(RULE.match(address)), address


def test_the_document_states_the_rule() -> None:
    body = document()["components"]["schemas"]["TransferRequest"]["properties"]["to"]
    assert body["pattern"] == EMAIL_WIRE_PATTERN


@pytest.fixture(scope="module")
def live_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(tmp_path_factory.mktemp("email-rule") / "sandbox.db") as sandbox:
        seed_people(sandbox)
        yield sandbox


@pytest.mark.parametrize(
    ("address", "status"),
    [(NARROWER_BEFORE[0], 200), (NARROWER_BEFORE[1], 200), ("an..na@x.example", 422)],
)
def test_over_http_the_sandbox_applies_the_same_rule(
    live_sandbox: ThreadedSandbox, address: str, status: int
) -> None:
    url = f"{live_sandbox.url}/v1/sites/acme-bakery/collaborators/{address}?dry_run=true"
    headers = {"Authorization": f"Bearer {TOKENS[STUDIO]}"}
    with requests.put(url, json={"role": "viewer"}, headers=headers, timeout=10) as answer:
        assert answer.status_code == status, answer.text
