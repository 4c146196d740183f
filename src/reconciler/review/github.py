"""A tiny client for the few GitHub REST endpoints the approval gate needs.

::

    ReconcilerError
    ├── ConfigError      GITHUB_TOKEN / GITHUB_REPOSITORY / GITHUB_API_URL missing or unusable
    └── GitHubError      GitHub refused or failed a request (status kept; never the token)

The token goes into the ``Authorization`` header and nowhere else: not into messages,
not into logs, and never to another host than ``GITHUB_API_URL`` (pagination links
are followed only on the same origin).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.net import is_loopback, redact

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TIMEOUT = 10.0
PER_PAGE = 100
MAX_PAGES = 50

log = logging.getLogger("reconciler.review.github")


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
    merged: bool
    merged_at: str | None = None


@dataclass(frozen=True)
class Review:
    reviewer: str
    state: str
    submitted_at: str | None = None


class GitHubClient:
    """Reads pull requests and reviews of one repository (``owner/name``)."""

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.api_url = _checked_api_url(api_url)
        self.repository = _checked_repository(repository)
        self._token = token
        self._session = session or requests.Session()
        self._owns_session = session is None
        self.timeout = timeout

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GitHubClient:
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
        return cls(api_url, repository, token)

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r}, {self.repository!r})"

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    # --- endpoints --------------------------------------------------------------------

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """GET /repos/{repo}/commits/{sha}/pulls: the pull requests containing a commit."""
        return [
            _pull_request(item)
            for item in self._paginate(f"/repos/{self.repository}/commits/{sha}/pulls")
        ]

    def reviews(self, number: int) -> list[Review]:
        """GET /repos/{repo}/pulls/{n}/reviews: every review, oldest first."""
        reviews = []
        for item in self._paginate(f"/repos/{self.repository}/pulls/{number}/reviews"):
            user = item.get("user") or {}
            if user.get("login"):  # a deleted account ("ghost") has no user
                reviews.append(
                    Review(str(user["login"]), str(item.get("state", "")), item.get("submitted_at"))
                )
        return reviews

    # --- transport --------------------------------------------------------------------

    def _paginate(self, path: str) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.api_url}{path}?per_page={PER_PAGE}"
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise GitHubError(f"GitHub kept paginating GET {path} beyond {MAX_PAGES} pages")
            response = self._get(url, path)
            body = _json(response, path)
            if not isinstance(body, list):
                raise GitHubError(f"GitHub answered GET {path} with something other than a list")
            yield from (item for item in body if isinstance(item, dict))
            url = self._next_page(response)

    def _get(self, url: str, path: str) -> requests.Response:
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"reconciler/{__version__}",
        }
        log.debug("GET %s", path)
        try:
            response = self._session.get(
                url, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise GitHubError(
                f"could not reach GitHub at {self.api_url} for GET {path}: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400 or response.status_code in (301, 302, 307, 308):
            raise self._error(response, path)
        return response

    def _next_page(self, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        if _origin(link) != _origin(self.api_url):
            raise GitHubError(
                f"GitHub's next-page link points to another host ({_origin(link)}); "
                "not following it with the token"
            )
        return str(link)

    def _error(self, response: requests.Response, path: str) -> GitHubError:
        status = response.status_code
        detail = redact(_detail(response), self._token)
        hint = {
            401: "check GITHUB_TOKEN: it is missing, expired or revoked",
            403: "the token may not read this repository's pull requests, or the rate "
            "limit is exhausted (grant `pull-requests: read`)",
            404: f"no such repository or commit, or the token cannot see {self.repository}",
        }.get(status, "GitHub failed; try again later" if status >= 500 else "")
        text = f"GitHub answered {status} {response.reason or ''}".rstrip()
        text += f" for GET {path}"
        if detail:
            text += f" ({detail})"
        if hint:
            text += f": {hint}"
        return GitHubError(text, status=status)


def _pull_request(item: Mapping[str, Any]) -> PullRequest:
    user = item.get("user") or {}
    merged_at = item.get("merged_at")
    return PullRequest(
        number=int(item.get("number", 0)),
        author=str(user.get("login", "")),
        state=str(item.get("state", "")),
        merged=bool(merged_at) or bool(item.get("merged")),
        merged_at=merged_at if isinstance(merged_at, str) else None,
    )


def _json(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(f"GitHub answered GET {path} with invalid JSON") from None


def _detail(response: requests.Response) -> str:
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
