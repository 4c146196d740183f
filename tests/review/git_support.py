"""Helpers: real git repositories in temporary folders, a fake GitHub API.

Commits are made with the ``git`` command line, each with its own author and a fixed
date, so that history entries can be asserted exactly.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

AUTHORS = {
    "alice": ("Alice Expert", "alice@pixel.example"),
    "bob": ("Bob Reviewer", "bob@pixel.example"),
    "carol": ("Carol Client", "carol@acme-bakery.example"),
}
CONFIG = "expert: studio@pixel.example\n"


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
