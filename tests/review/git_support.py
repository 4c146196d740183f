"""Helpers: real git repositories in temporary folders, a fake GitHub API.

Commits are made with the ``git`` command line, each with its own author and a fixed
date, so that history entries can be asserted exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

AUTHORS = {
    "alice": ("Alice Expert", "alice@pixel.example"),
    "bob": ("Bob Reviewer", "bob@pixel.example"),
    "carol": ("Carol Client", "carol@acme-bakery.example"),
}
CONFIG = "expert: studio@pixel.example\n"
TOKEN = "ghs_fake-token-that-must-never-be-printed"
REPOSITORY = "pixel/sites"


def site_yaml(
    site_id: str,
    owner: str = "expert",
    *,
    billing_contact: str | None = None,
    collaborators: dict[str, str] | None = None,
    name: str | None = None,
) -> str:
    lines = [f"id: {site_id}", f"name: {name or site_id.title()}", f"owner: {owner}"]
    if billing_contact:
        lines.append(f"billing_contact: {billing_contact}")
    if collaborators is not None:
        lines.append("collaborators:" + ("" if collaborators else " {}"))
        lines += [f"  {email}: {role}" for email, role in collaborators.items()]
    return "\n".join(lines) + "\n"


class GitRepo:
    """A repository under construction, driven through the git command line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._clock = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("config", "user.name", "Reconciler CI")
        self.git("config", "user.email", "ci@pixel.example")
        self.git("config", "commit.gpgsign", "false")

    def git(
        self, *args: str, author: str = "alice", date: str | None = None, check: bool = True
    ) -> str:
        name, email = AUTHORS[author]
        env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        if date is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 or not check, f"git {' '.join(args)} failed: {done.stderr}"
        return done.stdout.strip()

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def site(self, site_id: str, owner: str = "expert", **kwargs: Any) -> Path:
        return self.write(f"sites/{site_id}.yaml", site_yaml(site_id, owner, **kwargs))

    def remove(self, name: str) -> None:
        (self.root / name).unlink()

    def next_date(self) -> str:
        """One day later than the previous commit: 2024-03-01, 2024-03-02, ..."""
        self._clock += 1
        return f"2024-03-{self._clock:02d}T10:00:00+00:00"

    def commit(self, message: str, author: str = "alice") -> str:
        self.git("add", "--all")
        self.git(
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
            author=author,
            date=self.next_date(),
        )
        return self.head()

    def merge(self, branch: str, message: str, author: str = "alice") -> str:
        self.git(
            "merge",
            "--no-ff",
            "--quiet",
            "-m",
            message,
            branch,
            author=author,
            date=self.next_date(),
        )
        return self.head()

    def note(self, sha: str) -> str | None:
        """The reconciler's git note on ``sha``, as `git notes show` prints it."""
        shown = self.git("notes", "--ref", "refs/notes/reconciler", "show", sha, check=False)
        return shown or None

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def checkout(self, *args: str) -> None:
        self.git("checkout", "--quiet", *args)


# --- a fake GitHub ----------------------------------------------------------------------


def pull(number: int, author: str, *, merged: bool = True) -> dict[str, Any]:
    return {
        "number": number,
        "state": "closed" if merged else "open",
        "user": {"login": author},
        "merged_at": "2024-03-10T12:00:00Z" if merged else None,
    }


def review(reviewer: str, state: str) -> dict[str, Any]:
    return {"user": {"login": reviewer}, "state": state, "submitted_at": "2024-03-09T12:00:00Z"}


@dataclass
class FakeGitHub:
    """The two endpoints the approval gate reads, with pagination and forced failures."""

    url: str = ""
    token: str = TOKEN
    repository: str = REPOSITORY
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 100
    fail_with: int | None = None
    fail_message: str = "Server Error"
    next_link: str | None = None  # overrides the next-page link of the first page
    requests: list[str] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.token,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_API_URL": self.url,
        }

    def answer(self, path: str, query: dict[str, list[str]], auth: str) -> tuple[int, Any, str]:
        self.requests.append(path)
        self.auth_headers.append(auth)
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, ""
        if self.fail_with is not None:
            return self.fail_with, {"message": self.fail_message}, ""
        prefix = f"/repos/{self.repository}/"
        parts = path.removeprefix(prefix).split("/") if path.startswith(prefix) else []
        if len(parts) == 3 and parts[0] == "commits" and parts[2] == "pulls":
            items = self.pulls.get(parts[1], [])
        elif len(parts) == 3 and parts[0] == "pulls" and parts[2] == "reviews":
            items = self.reviews.get(int(parts[1]), [])
        else:
            return 404, {"message": "Not Found"}, ""
        page = int(query.get("page", ["1"])[0])
        size = min(self.page_size, int(query.get("per_page", ["30"])[0]))
        chunk = items[(page - 1) * size : page * size]
        link = ""
        if page * size < len(items):
            target = self.next_link or f"{self.url}{path}?per_page={size}&page={page + 1}"
            link = f'<{target}>; rel="next"'
        return 200, chunk, link


def handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body, link = fake.answer(
                parts.path, parse_qs(parts.query), self.headers.get("Authorization", "")
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
