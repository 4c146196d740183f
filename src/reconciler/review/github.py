"""The few GitHub REST endpoints the approval gate reads, through githubkit.

githubkit (not PyGithub) for the transport: the endpoints and API version, the token,
and GitHub's rate limits (403/429 with ``retry-after``, or ``x-ratelimit-remaining:
0``), which it waits out within a bound that we set.

Its answers are read as raw JSON, not through its models of the latest REST
description: the gate reads the fields it decides on (DESIGN.md section 8) and nothing
else strictly, so that an answer without fields it does not need (an older GitHub
Enterprise Server release of the same API version, a deleted fork's ``head.repo:
null``) is judged as a complete one. A decision field missing or malformed is a
refusal that names it.

::

    ReconcilerError
    ├── ConfigError      GITHUB_TOKEN / GITHUB_REPOSITORY / GITHUB_API_URL missing or unusable
    └── GitHubError      GitHub refused or failed a request (status kept; never the token)

The token goes into the ``Authorization`` header and nowhere else: not into messages,
not into logs, and never to another host than ``GITHUB_API_URL`` (redirects are not
followed, and pagination never follows a link to another origin).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.response import Response
from githubkit.retry import RetryOption
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.net import is_loopback, redact

DEFAULT_API_URL = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_WAIT = 300.0  # seconds of rate-limit waiting per run, in all
MIN_WAIT = 1.0
PER_PAGE = 100
MAX_PAGES = 50
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
ROLES = frozenset({*WRITE_PERMISSIONS, "triage", "read"})

log = logging.getLogger("reconciler.review.github")
T = TypeVar("T")
_NEXT = re.compile(r'<([^<>]+)>;\s*rel="next"')


class GitHubError(ReconcilerError):
    """GitHub refused or failed a request; the message names the request, not the token."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    state: str
    merged_at: str | None
    base_ref: str
    merge_commit_sha: str | None = None
    head_sha: str | None = field(default=None, compare=False)
    author_is_bot: bool = field(default=False, compare=False)

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass(frozen=True)
class Review:
    reviewer: str
    state: str
    commit_id: str | None
    is_bot: bool = False
    submitted_at: str | None = None


# --- the decision fields (DESIGN.md section 8): all the gate reads of an answer ---------


class _Fields(BaseModel):
    """Some fields of an answer: the others are ignored, whatever they hold; these are
    required with their exact JSON type (no "12" for 12)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


# A moment as GitHub writes it (an ISO 8601 string; strict mode takes no string).
_Moment = Annotated[datetime, Field(strict=False)]


class _User(_Fields):
    login: str
    type: str


class _Base(_Fields):
    ref: str


class _Head(_Fields):
    sha: str


class _Repository(_Fields):
    default_branch: str


class _Pull(_Fields):
    number: int
    user: _User | None  # null for a deleted account
    merged_at: _Moment | None
    base: _Base
    merge_commit_sha: str | None
    head: _Head


class _Review(_Fields):
    id: int
    user: _User | None  # null for a deleted account ("ghost")
    state: str
    commit_id: str | None
    submitted_at: _Moment | None = None  # a pending review has none


class _Permission(_Fields):
    permission: str
    role_name: str | None = None  # where present: an older release does not send it


class _File(_Fields):
    content: str
    encoding: Literal["base64"]


_REPOSITORY = TypeAdapter(_Repository)
_PULL = TypeAdapter(_Pull)
_PULLS = TypeAdapter(list[_Pull])
_REVIEWS = TypeAdapter(list[_Review])
_PERMISSION = TypeAdapter(_Permission)
_FILE = TypeAdapter(_File)
M = TypeVar("M", bound=BaseModel)


def _decided(adapter: TypeAdapter[T], data: Any, path: str, *, first: int = 0) -> T:
    """The decision fields of GitHub's answer to GET ``path``; a GitHubError naming the
    first one missing or malformed (an item by its place in the whole listing, from
    ``first``)."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = [
            part + first if isinstance(part, int) and i == 0 else part
            for i, part in enumerate(error["loc"])
        ]
        message = "Input should be an object" if error["type"] == "model_type" else error["msg"]
        raise GitHubError(
            f"GitHub answered GET {path} with a body that does not match its REST "
            f"description ({'.'.join(map(str, where)) or 'the body'}: {message})"
        ) from None


class RateLimitWait:
    """githubkit's retry decision: wait out rate limits while the total stays in bound.

    Server errors are not retried here: the gate then holds the change back with the
    reason, and the next apply asks again.
    """

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self.waited = 0.0

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if not isinstance(exc, RateLimitExceeded):
            return RetryOption(False)
        # At least a second: a reset already past gives githubkit a zero wait, which it
        # takes for "unknown" and sleeps 60 s instead.
        wait = max(exc.retry_after.total_seconds(), MIN_WAIT)
        if self.waited + wait > self.max_wait:
            return RetryOption(False)
        self.waited += wait
        log.warning("GitHub's rate limit: waiting %.0f s as it asks", wait)
        return RetryOption(True, timedelta(seconds=wait))


class GitHubClient:
    """Reads one repository (``owner/name``): its default branch, pull requests,
    reviews, collaborators' permissions and files."""

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.api_url = _checked_api_url(api_url)
        self.repository = _checked_repository(repository)
        self.owner, _, self.name = self.repository.partition("/")
        self._token = token
        self.rate_limit = RateLimitWait(max_wait)
        self._github: GitHub[TokenAuthStrategy] = GitHub(
            TokenAuthStrategy(token),
            base_url=self.api_url + "/",
            user_agent=f"reconciler/{__version__}",
            follow_redirects=False,
            timeout=timeout,
            http_cache=False,
            auto_retry=self.rate_limit,
        )
        self._rest = self._github.rest(API_VERSION)
        self._entered = False

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, max_wait: float = DEFAULT_MAX_WAIT
    ) -> GitHubClient:
        """A client from GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (optional)."""
        token = environ.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "GITHUB_TOKEN is not set; checking approvals needs a token that can read "
                "pull requests (in a workflow: `GITHUB_TOKEN: ${{ github.token }}` with "
                "`permissions: pull-requests: read`)"
            )
        repository = environ.get("GITHUB_REPOSITORY", "").strip()
        if not repository:
            raise ConfigError(
                "GITHUB_REPOSITORY is not set; give the repository as owner/name "
                "(GitHub Actions sets it)"
            )
        api_url = environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
        return cls(api_url, repository, token, max_wait=max_wait)

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r}, {self.repository!r})"

    def __enter__(self) -> GitHubClient:
        self._github.__enter__()  # type: ignore[no-untyped-call]  # one pool for all requests
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._entered:
            self._entered = False
            self._github.__exit__(None, None, None)

    # --- endpoints --------------------------------------------------------------------

    def default_branch(self) -> str:
        """GET /repos/{repo}: the branch that merges must reach."""
        path = f"/repos/{self.repository}"
        with self._calling(path):
            data = self._rest.repos.get(self.owner, self.name).json()
        return _decided(_REPOSITORY, data, path).default_branch

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """GET /repos/{repo}/commits/{sha}/pulls: the pull requests that contain a commit."""
        path = f"/repos/{self.repository}/commits/{sha}/pulls"
        pages = self._pages(
            path,
            _PULLS,
            lambda page: self._rest.repos.list_pull_requests_associated_with_commit(
                self.owner, self.name, sha, per_page=PER_PAGE, page=page
            ),
        )
        return [_pull_request(item, raw) for item, raw in pages]

    def pull(self, number: int) -> PullRequest:
        """GET /repos/{repo}/pulls/{n}: whether and where it was merged."""
        path = f"/repos/{self.repository}/pulls/{number}"
        with self._calling(path):
            data = self._rest.pulls.get(self.owner, self.name, number).json()
        return _pull_request(_decided(_PULL, data, path), data)

    def reviews(self, number: int) -> list[Review]:
        """GET /repos/{repo}/pulls/{n}/reviews: every review, oldest first."""
        path = f"/repos/{self.repository}/pulls/{number}/reviews"
        pages = self._pages(
            path,
            _REVIEWS,
            lambda page: self._rest.pulls.list_reviews(
                self.owner, self.name, number, per_page=PER_PAGE, page=page
            ),
        )
        return [
            Review(
                reviewer=item.user.login,
                state=item.state,
                commit_id=item.commit_id,
                is_bot=item.user.type == "Bot" or item.user.login.endswith("[bot]"),
                submitted_at=_iso(item.submitted_at),
            )
            for item, _ in pages
            if item.user is not None  # a deleted account ("ghost")
        ]

    def permission(self, login: str) -> str:
        """GET /repos/{repo}/collaborators/{login}/permission: admin, maintain, write,
        triage, read or none (a custom role counts as what it is based on)."""
        path = f"/repos/{self.repository}/collaborators/{login}/permission"
        try:
            with self._calling(path):
                data = self._rest.repos.get_collaborator_permission_level(
                    self.owner, self.name, login
                ).json()
        except GitHubError as exc:
            if exc.status == 404:  # not a collaborator: GitHub says "not a user" here
                return "none"
            raise
        answer = _decided(_PERMISSION, data, path)
        return answer.role_name if answer.role_name in ROLES else answer.permission

    def file_at(self, path_in_repo: str, ref: str) -> str | None:
        """GET /repos/{repo}/contents/{path}?ref=: a file's text at a commit; None when
        the file does not exist there (or is a folder)."""
        path = f"/repos/{self.repository}/contents/{path_in_repo}?ref={ref}"
        try:
            with self._calling(path):
                data = self._rest.repos.get_content(
                    self.owner, self.name, path_in_repo, ref=ref
                ).json()
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(data, list):  # a folder's listing
            return None
        content = _decided(_FILE, data, path).content
        try:
            return base64.b64decode(content).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            raise GitHubError(
                f"GitHub answered GET {path} with content that is not base64"
            ) from None

    # --- transport --------------------------------------------------------------------

    def _pages(
        self,
        path: str,
        adapter: TypeAdapter[list[M]],
        fetch: Callable[[int], Response[Any, Any]],
    ) -> Iterator[tuple[M, Any]]:
        """Every item of a listing with its raw JSON, page by page (by number, never by
        following a URL elsewhere), at most MAX_PAGES pages."""
        seen = 0
        for page in range(1, MAX_PAGES + 1):
            with self._calling(path):
                response = fetch(page)
                data = response.json()
            items = _decided(adapter, data, path, first=seen)
            yield from zip(items, data, strict=True)
            seen += len(items)
            link = _NEXT.search(response.headers.get("link", ""))
            if link is None:
                return
            if _origin(link.group(1)) != _origin(self.api_url):
                raise GitHubError(
                    f"GitHub's next-page link points to another host "
                    f"({_origin(link.group(1))}); not following it with the token"
                )
        raise GitHubError(f"GitHub kept paginating GET {path} beyond {MAX_PAGES} pages")

    @contextmanager
    def _calling(self, path: str) -> Iterator[None]:
        """Turn whatever githubkit raises for GET ``path`` into a GitHubError."""
        log.debug("GET %s", path)
        try:
            yield
        except RateLimitExceeded as exc:
            wait = exc.retry_after.total_seconds()
            raise GitHubError(
                f"GitHub's rate limit stops GET {path}: it asks to wait {wait:.0f} s more, "
                f"beyond the {self.rate_limit.max_wait:.0f} s this run waits in all "
                f"(waited {self.rate_limit.waited:.0f} s); run again later",
                status=exc.response.status_code,
            ) from None
        except RequestFailed as exc:
            raise self._error(exc.response.raw_response, path) from None
        except RequestError as exc:
            raise GitHubError(
                f"could not reach GitHub at {self.api_url} for GET {path}: {type(exc.exc).__name__}"
            ) from None
        except (GitHubException, httpx.HTTPError, ValueError) as exc:
            raise GitHubError(
                f"GitHub's answer to GET {path} could not be read: {type(exc).__name__}"
            ) from None

    def _error(self, response: httpx.Response, path: str) -> GitHubError:
        status = response.status_code
        detail = redact(_detail(response), self._token)
        hint = {
            401: "check GITHUB_TOKEN: it is missing, expired or revoked",
            403: "the token may not read this repository's pull requests "
            "(grant `pull-requests: read` and `contents: read`)",
            404: f"no such repository, commit or file, or the token cannot see {self.repository}",
        }.get(status, "GitHub failed; try again later" if status >= 500 else "")
        text = f"GitHub answered {status} {response.reason_phrase or ''}".rstrip()
        text += f" for GET {path}"
        if detail:
            text += f" ({detail})"
        if hint:
            text += f": {hint}"
        return GitHubError(text, status=status)


def _pull_request(item: _Pull, raw: Any) -> PullRequest:
    state = raw.get("state") if isinstance(raw, dict) else None  # shown, never decided on
    return PullRequest(
        number=item.number,
        author=item.user.login if item.user else "",
        state=state if isinstance(state, str) else "",
        merged_at=_iso(item.merged_at),
        base_ref=item.base.ref,
        merge_commit_sha=item.merge_commit_sha,
        head_sha=item.head.sha,
        author_is_bot=item.user is not None and item.user.type == "Bot",
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return str(text).replace("+00:00", "Z")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _checked_api_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"GITHUB_API_URL must be an http(s) URL, not {url!r}")
    if parts.username or parts.password:
        raise ConfigError("GITHUB_API_URL must not carry credentials; use GITHUB_TOKEN")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"GITHUB_API_URL {url!r} uses plain http; the token would travel unencrypted "
            "(only a loopback address may use http)"
        )
    return url.rstrip("/")


def _checked_repository(repository: str) -> str:
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name or any(c.isspace() for c in repository):
        raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}")
    return repository
