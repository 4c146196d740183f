"""A fake GitHub REST API on 127.0.0.1 for the approval gate, that cannot drift.

Every answer is built by ``payload(Model, overrides)``: an example of the githubkit model
(generated from GitHub's official REST description, API version 2022-11-28) carrying
every field that description marks required, with the test's values laid over it, and
then validated against the model. A field GitHub requires and the fake forgot, or a
value of the wrong type, fails the test that made it.

Beside today's answers it serves, once checked, answers as GitHub sends them but its
description does not say: ``release="older"`` leaves out the fields an older GitHub
Enterprise Server release of the same API version does not send (a label's
``archived_by``, a team's ``type``, the permission's ``role_name`` and its user's), and
``pull(..., fork_deleted=True)`` has the ``head`` of a pull request whose fork was
deleted (``repo``, ``user`` and ``label`` null).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from githubkit_schemas.v2022_11_28.models import (
    BasicError,
    ContentFile,
    FullRepository,
    PullRequest,
    PullRequestPropLabelsItems,
    PullRequestReview,
    PullRequestSimple,
    RepositoryCollaboratorPermission,
    SimpleUser,
    Team,
    TeamSimple,
)
from pydantic import BaseModel

TOKEN = "ghs_fake-token-that-must-never-be-printed"
REPOSITORY = "pixel/sites"
MERGED_AT = "2024-03-10T12:00:00Z"


# --- payloads from the official models --------------------------------------------------


def example(model: type[BaseModel]) -> dict[str, Any]:
    """The smallest answer the model accepts: every required field, placeholder values."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    value = _example(schema, schema.get("$defs", {}))
    assert isinstance(value, dict)
    return value


def _example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            if any(option.get("type") == "null" for option in options):
                return None
            return _example(options[0], defs)
    if "allOf" in schema:
        return _example(schema["allOf"][0], defs)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(properties[name], defs) for name in schema.get("required", [])}
    return _SCALARS.get(kind, _string)(schema)


def _string(schema: dict[str, Any]) -> str:
    return {"date-time": "2024-03-01T10:00:00Z", "uri": "https://api.github.example/x"}.get(
        schema.get("format", ""), "x"
    )


_SCALARS: dict[Any, Any] = {
    "array": lambda _schema: [],
    "integer": lambda _schema: 1,
    "number": lambda _schema: 1.0,
    "boolean": lambda _schema: False,
    "null": lambda _schema: None,
    "string": _string,
}


def payload(model: type[BaseModel], **overrides: Any) -> dict[str, Any]:
    """An answer of ``model`` with ``overrides`` laid over its example, checked."""
    data = _merged(example(model), overrides)
    model.model_validate(data)  # raises when the fake drifted from GitHub's description
    return data


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def user(login: str, *, bot: bool = False) -> dict[str, Any]:
    return {**example(SimpleUser), "login": login, "type": "Bot" if bot else "User"}


# --- the fake's state ------------------------------------------------------------------


@dataclass
class FakePull:
    number: int
    author: str
    merged: bool = True
    base: str = "main"
    merge_commit_sha: str | None = None
    fork_deleted: bool = False


@dataclass
class FakeReview:
    reviewer: str
    state: str
    commit_id: str | None
    bot: bool = False


def pull(
    number: int,
    author: str,
    *,
    merged: bool = True,
    base: str = "main",
    merge_commit_sha: str | None = None,
    fork_deleted: bool = False,
) -> FakePull:
    return FakePull(number, author, merged, base, merge_commit_sha, fork_deleted)


def review(
    reviewer: str, state: str, commit: str | None = None, *, bot: bool = False
) -> FakeReview:
    return FakeReview(reviewer, state, commit, bot)


@dataclass
class FakeGitHub:
    """The endpoints of DESIGN.md section 8, with pagination, rate limits and failures."""

    url: str = ""
    token: str = TOKEN
    repository: str = REPOSITORY
    default_branch: str = "main"
    release: str = "today"  # or "older": fields an older GHES release does not send
    pulls: dict[str, list[FakePull]] = field(default_factory=dict)  # by commit sha
    reviews: dict[int, list[FakeReview]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> role; else 404
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (path, ref) -> text
    page_size: int = 100
    fail_with: int | None = None
    fail_message: str = "Server Error"
    rate_limited: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    next_link: str | None = None  # overrides the next-page link of the first page
    requests: list[str] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.token,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_API_URL": self.url,
        }

    def approve(self, number: int, reviewer: str, commit: str, *, role: str = "write") -> None:
        self.reviews.setdefault(number, []).append(review(reviewer, "APPROVED", commit))
        self.permissions.setdefault(reviewer, role)

    def answer(
        self, path: str, query: dict[str, list[str]], auth: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append(path)
            self.auth_headers.append(auth)
            if auth not in (f"Bearer {self.token}", f"token {self.token}"):  # both, as GitHub
                return 401, error("Bad credentials"), {}
            if self.rate_limited:
                status, headers = self.rate_limited.pop(0)
                return status, error("API rate limit exceeded for installation."), headers
            if self.fail_with is not None:
                return self.fail_with, error(self.fail_message), {}
            return self._route(path, query)

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        prefix = f"/repos/{self.repository}"
        if path == prefix:
            return 200, self.repository_payload(), {}
        parts = path.removeprefix(prefix + "/").split("/") if path.startswith(prefix) else []
        match parts:
            case ["commits", sha, "pulls"]:
                items = [self.pull_payload(p, simple=True) for p in self.pulls.get(sha, [])]
                return self._page(path, items, query)
            case ["pulls", number]:
                found = self._pull(int(number))
                return _found(found and self.pull_payload(found, simple=False))
            case ["pulls", number, "reviews"]:
                reviews = enumerate(self.reviews.get(int(number), []))
                return self._page(path, [self.review_payload(r, i) for i, r in reviews], query)
            case ["collaborators", login, "permission"]:
                role = self.permissions.get(login)
                return _found(role and self.permission_payload(login, role))
            case ["contents", *rest]:
                name, ref = unquote("/".join(rest)), query.get("ref", [self.default_branch])[0]
                text = self.files.get((name, ref))
                return _found(text is not None and self.content_payload(name, text))
        return _found(None)

    def _pull(self, number: int) -> FakePull | None:
        return next((p for ps in self.pulls.values() for p in ps if p.number == number), None)

    def _page(
        self, path: str, items: list[Any], query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        page = int(query.get("page", ["1"])[0])
        size = min(self.page_size, int(query.get("per_page", ["30"])[0]))
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            target = self.next_link or f"{self.url}{path}?per_page={size}&page={page + 1}"
            headers["Link"] = f'<{target}>; rel="next"'
        return 200, chunk, headers

    # --- payloads -------------------------------------------------------------------

    def repository_payload(self) -> dict[str, Any]:
        owner, _, name = self.repository.partition("/")
        return payload(
            FullRepository,
            name=name,
            full_name=self.repository,
            owner=user(owner),
            default_branch=self.default_branch,
        )

    def pull_payload(self, spec: FakePull, *, simple: bool) -> dict[str, Any]:
        model = PullRequestSimple if simple else PullRequest
        answer = payload(
            model,
            number=spec.number,
            state="closed" if spec.merged else "open",
            user=user(spec.author),
            merged_at=MERGED_AT if spec.merged else None,
            merge_commit_sha=spec.merge_commit_sha,
            base={"ref": spec.base},
            head={"sha": f"{spec.number:040x}"},
            labels=[{**example(PullRequestPropLabelsItems), "name": "handover"}],
            requested_teams=[
                {**example(Team if simple else TeamSimple), "slug": "account-managers"}
            ],
            **({} if simple else {"merged": spec.merged}),
        )
        if spec.fork_deleted:
            answer["head"] = {**answer["head"], "repo": None, "user": None, "label": None}
        if self.release == "older":
            for label in answer["labels"]:
                del label["archived_by"]
            for team in answer["requested_teams"]:
                del team["type"]
        return answer

    def review_payload(self, spec: FakeReview, index: int) -> dict[str, Any]:
        return payload(
            PullRequestReview,
            id=index + 1,
            user=user(spec.reviewer, bot=spec.bot),
            state=spec.state,
            commit_id=spec.commit_id,
            submitted_at=f"2024-03-09T12:{index:02d}:00Z",
            author_association="NONE",
        )

    def permission_payload(self, login: str, role: str) -> dict[str, Any]:
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        answer = payload(
            RepositoryCollaboratorPermission,
            permission=permission,
            role_name=role,
            user={**example_collaborator(), "login": login},
        )
        if self.release == "older":
            del answer["role_name"], answer["user"]["role_name"]
        return answer

    def content_payload(self, name: str, text: str) -> dict[str, Any]:
        return payload(
            ContentFile,
            type="file",
            encoding="base64",
            name=name.rsplit("/", 1)[-1],
            path=name,
            content=base64.b64encode(text.encode()).decode(),
            size=len(text.encode()),
        )


def example_collaborator() -> dict[str, Any]:
    schema = RepositoryCollaboratorPermission.model_json_schema(by_alias=True)
    collaborator = schema["$defs"]["Collaborator"]
    value = _example(collaborator, schema["$defs"])
    assert isinstance(value, dict)
    return value


def _found(body: Any) -> tuple[int, Any, dict[str, str]]:
    """200 with ``body``, or GitHub's 404 when there is none."""
    if not body:
        return 404, error("Not Found"), {}
    return 200, body, {}


def error(message: str) -> dict[str, Any]:
    return payload(BasicError, message=message, documentation_url="https://docs.github.com/rest")


def handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body, headers = fake.answer(
                parts.path, parse_qs(parts.query), self.headers.get("Authorization", "")
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
