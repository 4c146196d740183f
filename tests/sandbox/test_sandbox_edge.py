"""The HTTP edge (DESIGN.md section 4), request by request over a raw socket.

A corpus of raw requests, valid and hostile, each with the status, content type and
problem body it must get; then every route with valid input, in an order where each
builds on the one before. Every error is ``application/problem+json``, the
protocol-level ones included.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import ANNA, BEN, READ_TOKENS, STUDIO, TOKENS, FakeClock, seed_people

from reconciler.sandbox.openapi import document
from reconciler.sandbox.server import ThreadedSandbox

PROBLEM = "application/problem+json"
JSON = "application/json"
TOKEN = f"Authorization: Bearer {TOKENS[STUDIO]}"
COLLABORATOR = f"/v1/sites/acme-bakery/collaborators/{ANNA}"
MIB = 1 << 20
BIG = "The body is over 1,048,576 bytes (1 MiB); send less."
CHUNKED = "Send the body with a Content-Length; chunked bodies are refused."
NOT_A_LENGTH = "Content-Length must be a number of bytes."
TWO_LENGTHS = "Content-Length is given more than once, with different values."
TOO_DEEP = "The request body is not JSON: it nests deeper than 64 levels."
NO_TOKEN = "Send your API token as 'Authorization: Bearer <token>'."
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    505: "HTTP Version Not Supported",
}
"""Problem titles: the reason phrases of RFC 9110."""


@dataclass(frozen=True)
class Case:
    """A raw request and what it must be answered."""

    request: bytes
    status: int
    detail: str | None = None  # the problem's detail; None: not a problem
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"  # how to read the answer (HEAD has no body)


def raw(line: str, *headers: str, body: bytes = b"") -> bytes:
    """A request: its line, its header lines, an empty line, its body."""
    head = "\r\n".join([line, "Host: 127.0.0.1", *headers, "", ""])
    return head.encode("latin-1") + body


def put_role(*headers: str, body: bytes = b'{"role": "viewer"}') -> bytes:
    return raw(
        f"PUT {COLLABORATOR} HTTP/1.1", "Content-Type: application/json", *headers, body=body
    )


def put_json(body: bytes, *headers: str) -> bytes:
    """A collaborator's PUT with ``body`` and its true Content-Length."""
    return put_role(*headers, f"Content-Length: {len(body)}", body=body)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


CORPUS: dict[str, Case] = {
    # -- bodies over 1 MiB, refused by their declared size before anything is read --
    "big body, no token": Case(put_role(f"Content-Length: {100 * MIB}", body=b""), 413, BIG),
    "big body, token": Case(put_role(TOKEN, f"Content-Length: {100 * MIB}", body=b""), 413, BIG),
    "just over 1 MiB": Case(put_role(TOKEN, f"Content-Length: {MIB + 1}", body=b""), 413, BIG),
    "big body, unknown route": Case(
        raw("POST /nowhere HTTP/1.1", f"Content-Length: {MIB + 1}"), 413, BIG
    ),
    "a length of 10^30": Case(put_role(TOKEN, "Content-Length: " + "9" * 30, body=b""), 413, BIG),
    "a length of 5,000 digits": Case(
        put_role(TOKEN, "Content-Length: " + "9" * 5000, body=b""), 413, BIG
    ),
    # -- every form of Content-Length --
    "negative length": Case(put_role(TOKEN, "Content-Length: -1"), 400, NOT_A_LENGTH),
    "non-numeric length": Case(put_role(TOKEN, "Content-Length: abc"), 400, NOT_A_LENGTH),
    "signed length": Case(put_role(TOKEN, "Content-Length: +18"), 400, NOT_A_LENGTH),
    "fractional length": Case(put_role(TOKEN, "Content-Length: 18.0"), 400, NOT_A_LENGTH),
    "empty length": Case(put_role(TOKEN, "Content-Length: "), 400, NOT_A_LENGTH),
    "non-ASCII digits": Case(
        put_role(TOKEN, "Content-Length: \u0661\u0668".encode().decode("latin-1")),
        400,
        NOT_A_LENGTH,
    ),
    "two different lengths": Case(
        put_role(TOKEN, "Content-Length: 18", "Content-Length: 17"), 400, TWO_LENGTHS
    ),
    "a list of different lengths": Case(
        put_role(TOKEN, "Content-Length: 18, 17"), 400, TWO_LENGTHS
    ),
    "the same length twice": Case(put_role(TOKEN, "Content-Length: 18", "Content-Length: 18"), 200),
    "a list of the same length": Case(put_role(TOKEN, "Content-Length: 18, 018"), 200),
    "no length, no body": Case(
        raw(f"DELETE /v1/sites/acme-bakery/collaborators/{BEN} HTTP/1.1", TOKEN),
        404,
        f"{BEN} is not a collaborator of site 'acme-bakery'.",
    ),
    "no length where a body is needed": Case(
        put_role(TOKEN, body=b""), 422, "body: Field required"
    ),
    # -- chunked and other transfer codings: 411, with a token or without --
    "chunked": Case(
        put_role(
            TOKEN,
            "Transfer-Encoding: chunked",
            body=b"12\r\n" + b'{"role": "viewer"}' + b"\r\n0\r\n\r\n",
        ),
        411,
        CHUNKED,
    ),
    "chunked, no token": Case(
        put_role("Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 411, CHUNKED
    ),
    "chunked and a length": Case(
        put_role(TOKEN, "Transfer-Encoding: chunked", "Content-Length: 5", body=b"0\r\n\r\n"),
        411,
        CHUNKED,
    ),
    "gzip coding": Case(put_role(TOKEN, "Transfer-Encoding: gzip"), 411, CHUNKED),
    # -- JSON: 64 levels at most, never a 500 --
    "50,000-deep JSON": Case(put_json(nested(50_000), TOKEN), 422, TOO_DEEP),
    "50,000-deep JSON, no token": Case(put_json(nested(50_000)), 422, TOO_DEEP),
    "65 deep": Case(put_json(nested(65), TOKEN), 422, TOO_DEEP),
    "64 deep is JSON, if not a role": Case(
        put_json(nested(64), TOKEN),
        422,
        "body: Input should be a valid dictionary or instance of CollaboratorRequest",
    ),
    "brackets in a string do not nest": Case(
        put_json(b'{"role": "' + b"[" * 190 + b'"}', TOKEN),
        422,
        "body.role: Input should be 'viewer', 'editor' or 'admin'",
    ),
    "a null body": Case(put_json(b"null", TOKEN), 422, "body: Field required"),
    "not JSON": Case(
        put_json(b"{role", TOKEN),
        422,
        "The request body is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1).",
    ),
    "not UTF-8": Case(
        put_json(b"\xff\xfe", TOKEN),
        422,
        "The request body is not JSON: it is not UTF-8.",
    ),
    "another media type": Case(
        raw(
            f"PUT {COLLABORATOR} HTTP/1.1",
            TOKEN,
            "Content-Type: text/plain",
            "Content-Length: 18",
            body=b'{"role": "viewer"}',
        ),
        415,
        "Send the body as application/json.",
    ),
    "no media type is JSON": Case(
        raw(
            f"PUT {COLLABORATOR} HTTP/1.1", TOKEN, "Content-Length: 18", body=b'{"role": "viewer"}'
        ),
        200,
    ),
    # -- methods: an unknown one is 405 with Allow --
    "TRACE": Case(
        raw("TRACE /v1/me HTTP/1.1"), 405, "TRACE is not allowed on /v1/me.", {"Allow": "GET"}
    ),
    "an unknown method": Case(
        raw("BREW /v1/sites/acme-bakery HTTP/1.1", TOKEN),
        405,
        "BREW is not allowed on /v1/sites/acme-bakery.",
        {"Allow": "GET"},
    ),
    "methods are case-sensitive": Case(
        raw("get /v1/me HTTP/1.1", TOKEN), 405, "get is not allowed on /v1/me.", {"Allow": "GET"}
    ),
    "a method that is not a token": Case(
        raw("G(T /v1/me HTTP/1.1"), 400, "The request method is not a token (RFC 9110 section 9.1)."
    ),
    "an unknown method on no route": Case(
        raw("BREW /coffee HTTP/1.1"),
        404,
        "There is no route /coffee; /openapi.json lists the routes.",
    ),
    "HEAD": Case(raw("HEAD /v1/me HTTP/1.1", TOKEN), 405, None, {"Allow": "GET"}, method="HEAD"),
    "OPTIONS": Case(
        raw("OPTIONS /v1/sites HTTP/1.1", TOKEN),
        405,
        "OPTIONS is not allowed on /v1/sites.",
        {"Allow": "GET"},
    ),
    "OPTIONS of a write": Case(
        raw(f"OPTIONS {COLLABORATOR} HTTP/1.1"),
        405,
        f"OPTIONS is not allowed on {COLLABORATOR}.",
        {"Allow": "DELETE, PUT"},
    ),
    # -- header lines --
    "an over-long header line": Case(
        raw("GET /v1/me HTTP/1.1", "X-Long: " + "x" * 70_000),
        431,
        "A header line is over 65,536 bytes.",
    ),
    "more than 100 headers": Case(
        raw("GET /v1/me HTTP/1.1", *(f"X-{n}: {n}" for n in range(101))),
        431,
        "More than 100 header fields.",
    ),
    "NUL in a header": Case(
        raw("GET /v1/me HTTP/1.1", "X-Note: a\x00b"),
        400,
        "The header 'X-Note' holds a control character.",
    ),
    "NUL in the token": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer {TOKENS[STUDIO]}\x00"),
        400,
        "The header 'Authorization' holds a control character.",
    ),
    # -- request lines --
    "HTTP/0.9": Case(b"GET /v1/me\r\n", 505, "HTTP/0.9 is not supported; send HTTP/1.1 requests."),
    "HTTP/2.0": Case(
        raw("GET /v1/me HTTP/2.0", TOKEN), 505, "HTTP/2.0 is not supported; send HTTP/1.1 requests."
    ),
    "HTTP/1.0": Case(raw("GET /v1/me HTTP/1.0", TOKEN), 200),
    "not a version": Case(
        raw("GET /v1/me HTCPCP/1.0"),
        400,
        "'HTCPCP/1.0' is not an HTTP version; send HTTP/1.1 requests.",
    ),
    "two spaces": Case(
        raw("GET  /v1/me HTTP/1.1"), 400, "The request line must be 'METHOD /path HTTP/1.1'."
    ),
    "an empty request line": Case(
        b"\r\n\r\n", 400, "The request line must be 'METHOD /path HTTP/1.1'."
    ),
    "an over-long request line": Case(
        raw("GET /v1/" + "x" * 70_000 + " HTTP/1.1"), 414, "The request line is over 65,536 bytes."
    ),
    # -- paths --
    "//v1/me": Case(
        raw("GET //v1/me HTTP/1.1", TOKEN),
        404,
        "There is no route //v1/me; /openapi.json lists the routes.",
    ),
    "absolute form": Case(raw("GET http://127.0.0.1/v1/me HTTP/1.1", TOKEN), 200),
    "absolute form, no path": Case(
        raw("GET http://127.0.0.1 HTTP/1.1", TOKEN),
        404,
        "There is no route /; /openapi.json lists the routes.",
    ),
    "asterisk form": Case(
        raw("OPTIONS * HTTP/1.1"), 400, "The request target must be a path, such as /v1/me."
    ),
    "trailing slash": Case(
        raw("GET /v1/me/ HTTP/1.1", TOKEN),
        404,
        "There is no route /v1/me/; /openapi.json lists the routes.",
    ),
    "trailing slash of a site": Case(
        raw("GET /v1/sites/acme-bakery/ HTTP/1.1", TOKEN),
        404,
        "There is no route /v1/sites/acme-bakery/; /openapi.json lists the routes.",
    ),
    "an empty segment": Case(
        raw("GET /v1/sites//transfers HTTP/1.1", TOKEN),
        404,
        "There is no route /v1/sites//transfers; /openapi.json lists the routes.",
    ),
    "raw UTF-8 path": Case(
        raw("GET /v1/sites/café HTTP/1.1".encode().decode("latin-1"), TOKEN),
        400,
        "The request target has characters that must be percent-encoded.",
    ),
    "escaped UTF-8 path": Case(
        raw("GET /v1/sites/caf%C3%A9 HTTP/1.1", TOKEN),
        404,
        "There is no site 'café', or you may not see it.",
    ),
    "escaped non-UTF-8 path": Case(
        raw("GET /v1/sites/%FF HTTP/1.1", TOKEN),
        400,
        "The path /v1/sites/%FF is not percent-encoded UTF-8.",
    ),
    "an escaped slash stays in its segment": Case(
        raw("GET /v1/sites/acme-bakery%2Ftransfers HTTP/1.1", TOKEN),
        404,
        "There is no site 'acme-bakery/transfers', or you may not see it.",
    ),
    "escaped letters": Case(raw("GET /v1/%73ites/acme%2Dbakery HTTP/1.1", TOKEN), 200),
    # -- bearer tokens --
    "no token": Case(raw("GET /v1/me HTTP/1.1"), 401, NO_TOKEN, {"WWW-Authenticate": "Bearer"}),
    "two spaces after Bearer": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer  {TOKENS[STUDIO]}"), 200
    ),
    "lower-case scheme": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: bearer {TOKENS[STUDIO]}"), 200
    ),
    "upper-case scheme": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: BEARER {TOKENS[STUDIO]}"), 200
    ),
    "a space after the token": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer {TOKENS[STUDIO]} "), 200
    ),
    "a tab after Bearer": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer\t{TOKENS[STUDIO]}"), 401, NO_TOKEN
    ),
    "no space after Bearer": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer{TOKENS[STUDIO]}"), 401, NO_TOKEN
    ),
    "an empty token": Case(raw("GET /v1/me HTTP/1.1", "Authorization: Bearer "), 401, NO_TOKEN),
    "two tokens": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Bearer {TOKENS[STUDIO]} {TOKENS[ANNA]}"),
        401,
        NO_TOKEN,
    ),
    "another scheme": Case(
        raw("GET /v1/me HTTP/1.1", f"Authorization: Basic {TOKENS[STUDIO]}"), 401, NO_TOKEN
    ),
    "an unknown token": Case(
        raw("GET /v1/me HTTP/1.1", "Authorization: Bearer nobody"),
        401,
        "The API token is unknown or revoked; use a valid token.",
    ),
}


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(url: str, request: bytes, method: str = "GET") -> RawAnswer:
    """``request`` over a new connection, as bytes; the answer as the server sent it."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = http.client.HTTPResponse(sock, method=method)
        try:
            answer.begin()
            return RawAnswer(answer.status, answer.headers, answer.read())
        finally:
            answer.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSandbox]:
    """One sandbox for the whole corpus: its requests change nothing that a later one
    reads (the one write that succeeds sets Anna's role to what it already is)."""
    db = tmp_path_factory.mktemp("edge") / "sandbox.db"
    with ThreadedSandbox(db, clock=FakeClock()) as sandbox:
        seed_people(sandbox)
        yield sandbox


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_edge_answers_each_raw_request_as_expected(served: ThreadedSandbox, name: str) -> None:
    case = CORPUS[name]

    answer = send(served.url, case.request, case.method)

    assert answer.status == case.status, answer.body
    for header, value in case.headers.items():
        assert answer.headers[header] == value
    assert answer.headers["Date"] == "Sat, 01 Mar 2025 09:00:00 GMT"  # the platform's clock
    if case.method == "HEAD":
        assert answer.body == b""
        assert answer.headers["Content-Type"] == PROBLEM
        return
    if case.status < 400:
        assert answer.headers["Content-Type"] == JSON
        return
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json() == {
        "type": "about:blank",
        "title": TITLES[case.status],
        "status": case.status,
        "detail": case.detail,
    }


def test_a_refused_body_closes_the_connection(served: ThreadedSandbox) -> None:
    """The body of a refused request was never read: nothing more can come over it."""
    answer = send(served.url, CORPUS["big body, token"].request)
    assert answer.headers["Connection"] == "close"


def test_a_connection_serves_one_request_after_another(served: ThreadedSandbox) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    statuses, sockets = [], []
    for path in ("/v1/me", "/v1/sites/nope", "/v1/me/"):
        connection.request("GET", path, headers={"Authorization": TOKEN.split(": ", 1)[1]})
        sockets.append(connection.sock)
        with connection.getresponse() as answer:
            answer.read()
            statuses.append(answer.status)
    connection.close()
    assert statuses == [200, 404, 404]
    assert sockets[0] is sockets[1] is sockets[2]  # one connection, kept alive


# -- every route with valid input --


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[ThreadedSandbox]:
    with ThreadedSandbox(tmp_path / "sandbox.db", clock=FakeClock()) as sandbox:
        seed_people(sandbox)
        yield sandbox


def call(
    sandbox: ThreadedSandbox, method: str, path: str, body: Any = None, token: str = ""
) -> RawAnswer:
    data = b"" if body is None else json.dumps(body).encode()
    headers = [f"Authorization: Bearer {token or TOKENS[STUDIO]}"]
    if body is not None:
        headers += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return send(sandbox.url, raw(f"{method} {path} HTTP/1.1", *headers, body=data))


def test_every_route_answers_valid_input_with_its_documented_success(
    fresh: ThreadedSandbox,
) -> None:
    site = "/v1/sites/acme-bakery"
    answered: dict[tuple[str, str], int] = {}

    def ok(method: str, template: str, path: str, body: Any = None, token: str = "") -> RawAnswer:
        answer = call(fresh, method, path, body, token)
        answered[(method, template)] = answer.status
        assert answer.status < 300, (method, path, answer.body)
        if answer.status != 204:
            assert answer.headers["Content-Type"] == JSON
            answer.json()
        return answer

    ok("GET", "/v1/me", "/v1/me")
    ok("GET", "/v1/sites", "/v1/sites?limit=10")
    ok("GET", "/v1/sites/{site_id}", site)
    ok(
        "PUT",
        "/v1/sites/{site_id}/collaborators/{email}",
        f"{site}/collaborators/{BEN}",
        {"role": "editor"},
    )
    ok("DELETE", "/v1/sites/{site_id}/collaborators/{email}", f"{site}/collaborators/{BEN}")
    ok("PUT", "/v1/sites/{site_id}/billing-contact", f"{site}/billing-contact", {"email": STUDIO})
    ok("POST", "/v1/sites/{site_id}/purchases", f"{site}/purchases", {"package": "premium"})
    ok("GET", "/v1/sites/{site_id}/invoices", f"{site}/invoices")
    writes = {"writes": [{"method": "POST", "path": f"{site}/transfers", "body": {"to": ANNA}}]}
    ok("POST", "/v1/dry-runs", "/v1/dry-runs", writes, READ_TOKENS[STUDIO])
    first = ok("POST", "/v1/sites/{site_id}/transfers", f"{site}/transfers", {"to": ANNA}).json()
    ok("DELETE", "/v1/sites/{site_id}/transfers/{transfer_id}", f"{site}/transfers/{first['id']}")
    declined = ok("POST", "/v1/sites/{site_id}/transfers", f"{site}/transfers", {"to": ANNA}).json()
    ok(
        "POST",
        "/v1/transfers/{transfer_id}/decline",
        f"/v1/transfers/{declined['id']}/decline",
        token=TOKENS[ANNA],
    )
    accepted = ok(
        "POST",
        "/v1/sites/{site_id}/transfers",
        f"{site}/transfers",
        {"to": ANNA, "stay_as_collaborator": True},
    ).json()
    ok(
        "POST",
        "/v1/transfers/{transfer_id}/accept",
        f"/v1/transfers/{accepted['id']}/accept",
        token=TOKENS[ANNA],
    )
    ok("GET", "/v1/sites/{site_id}/transfers", f"{site}/transfers")
    ok("GET", "/v1/transfers", "/v1/transfers?direction=sent")
    ok("GET", "/sandbox/stats", "/sandbox/stats")
    ok("GET", "/openapi.json", "/openapi.json")

    documented = document()["paths"]
    operations = {(m.upper(), path) for path, item in documented.items() for m in item}
    assert operations | {("GET", "/openapi.json")} == set(answered)
    for (method, template), status in answered.items():
        if template != "/openapi.json":
            assert str(status) in documented[template][method.lower()]["responses"]
