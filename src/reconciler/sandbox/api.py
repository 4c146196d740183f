"""From a request to its answer, by the route table (:data:`reconciler.sandbox.routes.ROUTES`).

No sockets here: :mod:`reconciler.sandbox.server` reads the request off the wire (and
refuses what the HTTP edge refuses), this module finds its route and answers it:

1. the route: 404 for a path no route has, 405 with ``Allow`` for a method it lacks;
2. the body, for a route that takes one: JSON, nested at most 64 deep (422), sent as
   JSON if a media type is named (415);
3. the bearer token (401);
4. every parameter against the route's models (422, every problem listed);
5. the handler, whose refusals are problem answers.

Batches of dry runs (``POST /v1/dry-runs``) come back here: each write of a batch is
answered as that write with ``?dry_run=true`` would be, through the same steps.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from itertools import accumulate
from urllib.parse import parse_qsl, unquote

from pydantic import BaseModel, ValidationError

from reconciler.platform.schema import (
    DryRunBatch,
    DryRunResult,
    DryRunResults,
    DryRunWrite,
    ProblemDetails,
)
from reconciler.sandbox.exchange import (
    Answer,
    StatsCounter,
    Write,
    bearer_token,
    grant_of,
    problem,
    refused,
)
from reconciler.sandbox.routes import ROUTES, Call, Route, WriteQuery
from reconciler.sandbox.store import Grant, Refusal, SandboxStore

logger = logging.getLogger("reconciler.sandbox")

MAX_JSON_DEPTH = 64
MAX_KEY_LENGTH = 255  # Idempotency-Key
MAX_QUERY_FIELDS = 100
NO_ROUTE = "(no route)"
"""The counters' name for a request that matched no route."""


@dataclass(frozen=True)
class Request:
    """A request as the edge read it: header names in lower case, the path as sent
    (percent-encoded, without its query)."""

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Match:
    """Where a method and path lead: a route and its parameters, or the methods the path
    allows (none: no such path), or a problem with the path itself."""

    route: Route | None
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    allow: tuple[str, ...] = ()
    problem: Answer | None = None

    @property
    def template(self) -> str:
        """The counters' name of the request's route."""
        if self.route is not None:
            return self.route.template
        return NO_ROUTE


DRY_RUN_QUERY = "dry_run=true"
"""The query of each write of a batch: it is answered as this dry run."""


@dataclass(frozen=True)
class _Known:
    """What a batch of dry runs already has of one write, so that it is not found again:
    the body as decoded JSON (the batch's own: valid JSON, well within the nesting
    limit, sent as ``application/json``), the caller's grant (None: look it up), the
    parsed query."""

    data: object
    grant: Grant | None
    query: Mapping[str, str]


class Invalid(Exception):
    """Parameters that do not validate: a 422 with one ``where: what`` line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Api:
    """The sandbox's API over ``store``: finds a request's route and answers it."""

    def __init__(self, store: SandboxStore, stats: StatsCounter | None = None) -> None:
        self.store = store
        self.stats = stats or StatsCounter()
        self._by_length: dict[int, list[tuple[Route, _Shape]]] = {}
        for route in ROUTES:
            segments = route.template.split("/")
            self._by_length.setdefault(len(segments), []).append((route, _shape(segments)))

    def match(self, method: str, path: str) -> Match:
        """The route of ``method`` on ``path`` (percent-encoded, as sent)."""
        try:  # segment by segment: an escaped slash stays inside its segment
            segments = [unquote(segment, errors="strict") for segment in path.split("/")]
        except UnicodeDecodeError:
            detail = f"The path {path} is not percent-encoded UTF-8."
            return Match(None, path, problem=problem(400, detail))
        decoded = "/".join(segments)
        allowed: list[str] = []
        for route, shape in self._by_length.get(len(segments), ()):
            params = _bind(shape, segments)
            if params is None:
                continue
            if route.method == method:
                return Match(route, decoded, params)
            allowed.append(route.method)
        return Match(None, decoded, allow=tuple(sorted(set(allowed))))

    def answer(
        self, request: Request, match: Match | None = None, known: _Known | None = None
    ) -> Answer:
        """The answer to ``request``; every refusal is a problem answer. ``known``: what
        a batch of dry runs already knows of it (see :meth:`dry_runs`)."""
        match = match or self.match(request.method, request.path)
        if match.problem is not None:
            return match.problem
        if match.route is None:
            return _unrouted(request.method, match)
        try:
            return match.route.handler(self._call(match.route, match, request, known))
        except Refusal as refusal:
            return refused(refusal)
        except Invalid as invalid:
            return problem(422, "; ".join(invalid.errors))
        except Exception as exc:  # a bug or a broken database: a problem, on its route
            logger.exception("%s %s failed", request.method, request.path)
            return problem(500, f"The sandbox failed ({type(exc).__name__}); see its log.")

    def dry_runs(self, batch: DryRunBatch, authorization: str | None) -> DryRunResults:
        """Each write of ``batch`` answered as ``?dry_run=true`` would, in order, all in
        one database transaction (each in a savepoint of it: see ``SandboxStore.batch``).

        What is the same for every write is found once (issue 20: a batch is up to 500
        writes): the caller's grant (the same Authorization, in the same transaction, where
        the dry runs before changed nothing), the query ``dry_run=true``; and each body is
        the batch's JSON already decoded, not encoded to be decoded again."""
        with self.store.batch():
            try:
                grant: Grant | None = grant_of(self.store, bearer_token(authorization))
            except Refusal:  # unknown since the batch's own lookup: each write refuses alone
                grant = None
            query = _query_values(DRY_RUN_QUERY, [])
            results = [self._dry_run(w, authorization, grant, query) for w in batch.writes]
        return DryRunResults(results=results)

    def _dry_run(
        self,
        write: DryRunWrite,
        authorization: str | None,
        grant: Grant | None,
        query: Mapping[str, str],
    ) -> DryRunResult:
        headers = {"content-type": "application/json"}
        if authorization is not None:
            headers["authorization"] = authorization
        if write.if_match is not None:
            headers["if-match"] = write.if_match
        request = Request(write.method, write.path, DRY_RUN_QUERY, headers)
        match = self.match(write.method, write.path)
        if match.route is not None and not match.route.write:
            detail = f"{write.method} {write.path} is not a write; a batch holds writes only."
            answer = problem(422, detail)
        else:
            answer = self.answer(request, match, _Known(write.body, grant, query))
        if answer.status < 400:
            return DryRunResult(status=answer.status)
        return DryRunResult(
            status=answer.status, problem=ProblemDetails.model_validate_json(answer.body)
        )

    def _call(
        self, route: Route, match: Match, request: Request, known: _Known | None = None
    ) -> Call:
        """The handler's view of the request: decoded, authenticated, validated."""
        data = None
        if route.body is not None:
            data = _decoded_body(request) if known is None else known.data
        authorization = request.headers.get("authorization")
        grant = None
        if route.token:
            grant = known.grant if known is not None else None
            grant = grant or grant_of(self.store, bearer_token(authorization))
        errors: list[str] = []
        path = _validated(route.path, match.params, "path", errors)
        values = _query_values(request.query, errors) if known is None else known.query
        query = _validated(route.query, values, "query", errors)
        key = request.headers.get("idempotency-key") if route.write else None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            errors.append(
                f"header.Idempotency-Key: String should have at most {MAX_KEY_LENGTH} characters"
            )
        body = None
        if route.body is not None:
            if data is None:
                errors.append("body: Field required")
            else:
                body = _validated(route.body, data, "body", errors)
        if errors:
            raise Invalid(errors)
        write = None
        if route.write:
            write = self._write(grant, query, key, request, match)
        return Call(
            self.store, self.stats, grant, path, query, body, write, self.dry_runs, authorization
        )

    def _write(
        self,
        grant: Grant | None,
        query: BaseModel | None,
        key: str | None,
        request: Request,
        match: Match,
    ) -> Write:
        """A write route's request, for the one write helper."""
        assert grant is not None, "every write route needs a token"
        dry_run = isinstance(query, WriteQuery) and query.dry_run
        if_match = request.headers.get("if-match")
        return Write(self.store, grant, request.method, match.path, key, if_match, dry_run)


_Shape = tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]
"""A route template's fixed segments (the last first: where routes differ most) and its
parameters, each by its position: a path of as many segments fits when every fixed one
is there and no parameter is empty."""


def _shape(template: list[str]) -> _Shape:
    fixed = [(at, segment) for at, segment in enumerate(template) if segment[:1] != "{"]
    named = [(at, segment[1:-1]) for at, segment in enumerate(template) if segment[:1] == "{"]
    return tuple(reversed(fixed)), tuple(named)


def _bind(shape: _Shape, segments: list[str]) -> dict[str, str] | None:
    """The path parameters when ``segments`` fit ``shape``; None when they do not."""
    fixed, named = shape
    for at, expected in fixed:
        if segments[at] != expected:
            return None
    params: dict[str, str] = {}
    for at, name in named:
        if not segments[at]:
            return None
        params[name] = segments[at]
    return params


def _unrouted(method: str, match: Match) -> Answer:
    if match.allow:  # the Allow header names every method of the path
        detail = f"{method} is not allowed on {match.path}."
        return problem(405, detail, {"Allow": ", ".join(match.allow)})
    return problem(404, f"There is no route {match.path}; /openapi.json lists the routes.")


def _validated(
    model: type[BaseModel] | None, data: object, where: str, errors: list[str]
) -> BaseModel | None:
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors += [
            ".".join([where, *(str(part) for part in error["loc"])]) + f": {error['msg']}"
            for error in exc.errors()
        ]
        return None


def _query_values(query: str, errors: list[str]) -> dict[str, str]:
    """The query's parameters; a repeated one counts by its last value."""
    try:
        return dict(parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS))
    except ValueError:
        errors.append(f"query: more than {MAX_QUERY_FIELDS} parameters")
        return {}


def _decoded_body(request: Request) -> object:
    """The body as JSON (None when there is none); refused before the token is read."""
    if not request.body:
        return None
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        raise Refusal(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise _unreadable("it is not UTF-8") from None
    if _deeper_than(text, MAX_JSON_DEPTH):
        raise _unreadable(f"it nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _unreadable(str(exc)) from None
    except RecursionError:  # a shape the depth count missed: still the client's mistake
        raise _unreadable(f"it nests deeper than {MAX_JSON_DEPTH} levels") from None


def _unreadable(reason: str) -> Refusal:
    return Refusal(422, "Unprocessable Content", f"The request body is not JSON: {reason}.")


def _is_json(content_type: str) -> bool:
    media = Message()
    media["content-type"] = content_type
    subtype = media.get_content_subtype()
    return media.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
"""A string (an unterminated one runs to the end: no scan starts twice)."""
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects more than ``limit`` deep
    (brackets inside strings do not count); counted before parsing, which would
    otherwise recurse as deep as the text goes. Strings out, then the running depth
    of the brackets left, in C loops (a batch of dry runs is 80 KB of JSON)."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit
