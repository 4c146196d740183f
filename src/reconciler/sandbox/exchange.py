"""What every route of the sandbox answers through: an answer, the problem body, the
bearer token, the e-mail in a path, and the one write helper (Idempotency-Key replay,
If-Match, dry runs, refusals as answers); and the request counters.

Importing this module costs no more than the store.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from pydantic import BaseModel

from reconciler.model import normalise_email
from reconciler.platform.schema import Account, ProblemDetails, Stats, TokenScope
from reconciler.sandbox.store import (
    NO_VERSION,
    Grant,
    Refusal,
    SandboxStore,
    StoredAnswer,
    Transaction,
    forbidden,
    unprocessable,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, body, its media type and any other header fields."""

    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def json_answer(value: BaseModel, status: int = 200) -> Answer:
    return Answer(status, value.model_dump_json().encode(), JSON_MEDIA_TYPE)


def problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None, *, title: str = ""
) -> Answer:
    """An ``application/problem+json`` answer (RFC 9457); the title is the status's
    reason phrase unless one is given."""
    body = problem_body(status, title or title_of(status), detail).encode()
    return Answer(status, body, PROBLEM_MEDIA_TYPE, headers or {})


def refused(refusal: Refusal) -> Answer:
    """The answer to a refusal; a 401 challenges the client to send a bearer token."""
    challenge = auth_challenge(refusal.status)
    return problem(refusal.status, refusal.detail, challenge, title=refusal.title)


def stored(answer: StoredAnswer) -> Answer:
    """The HTTP answer of a stored (or fresh) write answer: problem+json for errors."""
    headers = {} if answer.etag is None else {"ETag": f'"{answer.etag}"'}
    if answer.status == 204:
        return Answer(204, headers=headers)
    media_type = PROBLEM_MEDIA_TYPE if answer.status >= 400 else JSON_MEDIA_TYPE
    return Answer(answer.status, (answer.body or "").encode(), media_type, headers)


def problem_body(status: int, title: str, detail: str) -> str:
    """An ``application/problem+json`` body (RFC 9457)."""
    return ProblemDetails(title=title, status=status, detail=detail).model_dump_json()


_RFC_9110_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}
"""Reason phrases RFC 9110 renamed (Python 3.11's HTTPStatus has the older ones)."""


def title_of(status: int) -> str:
    """The standard reason phrase of ``status``, as a problem's title."""
    if status in _RFC_9110_PHRASES:
        return _RFC_9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def auth_challenge(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9._~+/-]+=*)")
"""RFC 6750 section 2.1: the scheme (any case), one or more spaces, a b64token."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None for anything else."""
    match = _BEARER.fullmatch((authorization or "").strip(" \t"))
    return None if match is None else match.group(1)


def grant_of(store: SandboxStore, token: str | None) -> Grant:
    """The account whose bearer token came with the request, and the token's scope;
    401 without a known token."""
    if token is None:
        raise Refusal(
            401, "Unauthorized", "Send your API token as 'Authorization: Bearer <token>'."
        )
    grant = store.grant_for_token(token)
    if grant is None:
        raise Refusal(
            401, "Unauthorized", "The API token is unknown or revoked; use a valid token."
        )
    return grant


def path_email(value: str) -> str:
    """An e-mail address from the path, normalised; a malformed one is a 422."""
    try:
        return normalise_email(value)
    except ValueError as exc:
        raise unprocessable(str(exc)) from None


def ok(status: int, value: BaseModel | None, version: int) -> StoredAnswer:
    """A successful answer: ``value`` as the body (none for 204), ``version`` as ETag."""
    body = None if value is None else value.model_dump_json()
    return StoredAnswer(status=status, body=body, etag=version)


def answer_of_problem(problem: Refusal) -> StoredAnswer:
    body = problem_body(problem.status, problem.title, problem.detail)
    return StoredAnswer(status=problem.status, body=body, etag=None)


MAX_VERSION_DIGITS = 18
"""A version is a 64-bit count; a longer tag cannot name one (and is never converted)."""


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match names: ``"3"`` -> 3; ``*`` or absent -> unconditional.

    Entity tags are opaque (RFC 9110 13.1.1) and If-Match compares them strongly: any
    other tag (a weak one, a word, a number too long to be a version) names no version
    the site can be at, so the write is refused with 412, not 422.
    """
    if value is None or value.strip() == "*":
        return None
    tag = value.strip()
    digits = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else ""
    if digits.isascii() and digits.isdigit() and len(digits) <= MAX_VERSION_DIGITS:
        version = int(digits)
        if str(version) == digits:  # the very tag an ETag carries: "01" is not "1"
            return version
    return NO_VERSION


Operation = Callable[[Transaction, int | None], StoredAnswer]
"""A write's work inside the transaction, given the version If-Match names (or None)."""


READ_SCOPE_WRITE = (
    "This token has the read scope: it may read and dry-run (?dry_run=true) but not "
    "write. Use the account's write token."
)


@dataclass(frozen=True)
class Write:
    """One write request: who sends it, to where, and under which conditions."""

    store: SandboxStore
    grant: Grant
    method: str
    path: str
    key: str | None
    if_match: str | None
    dry_run: bool = False

    @property
    def caller(self) -> Account:
        return self.grant.account

    def run(self, body: BaseModel | None, operation: Operation) -> StoredAnswer:
        """One transaction: replay by key, then check If-Match, then run and remember.

        A refusal is an answer like any other: it is stored under the key and replayed.
        A dry run answers the same but undoes everything and keeps no key (rule 11: a
        read token may dry-run, not write).
        """
        if self.grant.scope is not TokenScope.WRITE and not self.dry_run:
            raise forbidden(READ_SCOPE_WRITE)
        if self.dry_run:
            with self.store.trial() as tx:
                return self._attempt(tx, operation, undone=True)
        with self.store.transaction() as tx:
            return self._once(tx, body, operation)

    def _once(self, tx: Transaction, body: BaseModel | None, operation: Operation) -> StoredAnswer:
        """The first answer for the idempotency key, or the fresh one (then kept)."""
        if self.key is None:
            return self._attempt(tx, operation)
        fingerprint = self._fingerprint(body)
        account = self.caller.email
        replay = tx.recall(account, self.key, fingerprint)
        if replay is not None:
            return replay
        answer = self._attempt(tx, operation)
        tx.remember(account, self.key, fingerprint, answer)
        return answer

    def _attempt(
        self, tx: Transaction, operation: Operation, *, undone: bool = False
    ) -> StoredAnswer:
        """Run the operation; a refusal undoes its partial writes and is the answer.
        ``undone``: a dry run's, whose writes are all undone afterwards anyway (so it
        needs no savepoint of its own)."""
        try:
            if undone:
                return operation(tx, parse_if_match(self.if_match))
            with tx.savepoint():
                return operation(tx, parse_if_match(self.if_match))
        except Refusal as problem:
            return answer_of_problem(problem)

    def _fingerprint(self, body: BaseModel | None) -> str:
        text = "" if body is None else body.model_dump_json()
        return hashlib.sha256(f"{self.method} {self.path}\n{text}".encode()).hexdigest()


class StatsCounter:
    """Counts every request by route template and by status (or ``dropped``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    def count(self, route: str, status: str) -> None:
        with self._lock:
            self._routes[route] += 1
            self._statuses[status] += 1

    def snapshot(self) -> Stats:
        with self._lock:
            return Stats(
                total=sum(self._routes.values()),
                by_route=dict(self._routes),
                by_status=dict(self._statuses),
            )
