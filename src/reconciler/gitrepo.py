"""Everything that touches git (gitpython): changed sites, history, dirty checks, notes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import Any

import git
from git.exc import BadName, GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from reconciler.config import CONFIG_FILE, SITES_DIR
from reconciler.errors import ConfigError

NOTES_REF = "refs/notes/reconciler"
_SITE_SUFFIXES = (".yaml", ".yml")
TRACKED_FIELDS = ("owner", "billing_contact", "collaborators")


@dataclass(frozen=True)
class HistoryEntry:
    """One commit that changed a site's ownership, billing contact or access."""

    sha: str
    date: datetime
    author: str
    subject: str
    changes: tuple[str, ...]
    state: Mapping[str, Any]


class GitRepository:
    """The repository holding the site files."""

    def __init__(self, repo: git.Repo, root: Path) -> None:
        self.repo = repo
        self.root = root

    @classmethod
    def open(cls, root: Path) -> GitRepository:
        try:
            repo = git.Repo(root, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise ConfigError(
                f"{root} is not in a git repository; this command needs the site files in git"
            ) from None
        return cls(repo, root)

    # --- what changed ---------------------------------------------------------------

    def changed_site_ids(self, ref: str) -> set[str]:
        """Sites whose files changed between ``ref`` and the working tree.

        Compared from the merge base, as a pull request shows it: commits that reached
        ``ref`` after the branch started are not this branch's changes. Added, modified,
        renamed (both names) and deleted files count, and untracked new files too.
        """
        base = self._merge_base(ref)
        changed: set[str] = set()
        for item in base.diff(None, find_renames=True):
            for path in (item.a_path, item.b_path):
                changed |= self._site_ids([path] if path else [])
        changed |= self._site_ids(self.repo.untracked_files)
        return changed

    def _merge_base(self, ref: str) -> git.Commit:
        commit = self._commit(ref)
        try:
            head = self.repo.head.commit
        except ValueError:  # no commits yet
            return commit
        bases = self.repo.merge_base(commit, head)
        return bases[0] if bases else commit

    def _commit(self, ref: str) -> git.Commit:
        try:
            return self.repo.commit(ref)
        except (BadName, ValueError, GitCommandError):
            raise ConfigError(
                f"unknown git ref {ref!r}; give a branch, tag or commit (for a pull request: "
                "the base branch, e.g. origin/main, fetched with enough history)"
            ) from None

    def _site_ids(self, paths: Iterable[str]) -> set[str]:
        prefix = self._prefix()
        ids = set()
        for path in paths:
            pure = PurePosixPath(path)
            if pure.parent == PurePosixPath(prefix, SITES_DIR) and pure.suffix in _SITE_SUFFIXES:
                ids.add(pure.stem)
        return ids

    def _prefix(self) -> str:
        """The path of ``root`` inside the repository ('' at the top)."""
        top = Path(self.repo.working_tree_dir or self.root).resolve()
        relative = self.root.resolve().relative_to(top).as_posix()
        return "" if relative == "." else relative

    # --- dirty working tree and notes -----------------------------------------------

    def uncommitted_desired_state(self) -> list[str]:
        """Paths under sites/ or reconciler.yaml with uncommitted changes."""
        prefix = self._prefix()
        watched: list[str | PathLike[str]] = [
            str(PurePosixPath(prefix, SITES_DIR)),
            str(PurePosixPath(prefix, CONFIG_FILE)),
        ]
        dirty = {str(item.a_path) for item in self.repo.index.diff(None, paths=watched)}
        with contextlib.suppress(BadName, GitCommandError, ValueError):  # no commit yet
            dirty |= {str(item.a_path) for item in self.repo.index.diff("HEAD", paths=watched)}
        dirty |= {
            path
            for path in self.repo.untracked_files
            if any(path.startswith(str(w)) for w in watched)
        }
        return sorted(dirty)

    def head_sha(self) -> str | None:
        try:
            return str(self.repo.head.commit.hexsha)
        except ValueError:
            return None

    def add_note(self, sha: str, text: str) -> None:
        """Append ``text`` to the note of ``sha`` under refs/notes/reconciler."""
        try:
            self.repo.git.notes("--ref", NOTES_REF, "append", "-m", text, sha)
        except GitCommandError as exc:
            raise ConfigError(
                f"could not record the git note on {sha[:12]}: {exc.stderr}"
            ) from None

    def note(self, sha: str) -> str | None:
        try:
            return str(self.repo.git.notes("--ref", NOTES_REF, "show", sha))
        except GitCommandError:
            return None

    # --- history --------------------------------------------------------------------

    def history(self, site_id: str) -> list[HistoryEntry]:
        """Each commit that changed the site's owner, billing contact or collaborators."""
        from reconciler.loader import parse_yaml

        prefix = self._prefix()
        paths = [str(PurePosixPath(prefix, SITES_DIR, site_id + s)) for s in _SITE_SUFFIXES]
        try:
            commits = list(self.repo.iter_commits(paths=paths, reverse=True, full_history=True))
        except (ValueError, GitCommandError):
            return []
        entries: list[HistoryEntry] = []
        previous: dict[str, Any] | None = None
        for commit in commits:
            text = _blob_text(commit, paths)
            state = _tracked_state(parse_yaml(text, paths[0]).document) if text else None
            changes = describe_changes(previous, state)
            if changes:
                entries.append(_entry(commit, changes, state or {}))
            previous = state
        return entries


def _blob_text(commit: git.Commit, paths: list[str]) -> str | None:
    for path in paths:
        try:
            blob = commit.tree / path
        except KeyError:
            continue
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8", errors="replace")
    return None


def _tracked_state(document: Any) -> dict[str, Any]:
    data = getattr(document, "data", None)
    if not isinstance(data, dict):
        return {"invalid": True}
    return {key: data.get(key) for key in TRACKED_FIELDS}


def describe_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[str]:
    """Human lines for what changed between two states of a site file."""
    if before is None and after is None:
        return []
    if after is None:
        return ["file deleted: the site is no longer managed"]
    if after.get("invalid"):
        return ["file not readable as a site in this commit"]
    if before is None:
        return [f"file created: owner {after.get('owner')}" + _collab_text(after)]
    lines = []
    for key in ("owner", "billing_contact"):
        if before.get(key) != after.get(key):
            lines.append(f"{key}: {before.get(key) or '-'} -> {after.get(key) or '-'}")
    lines += _collaborator_changes(before.get("collaborators"), after.get("collaborators"))
    return lines


def _collab_text(state: Mapping[str, Any]) -> str:
    collaborators = state.get("collaborators")
    if not isinstance(collaborators, dict) or not collaborators:
        return ""
    return ", collaborators " + ", ".join(f"{k} ({v})" for k, v in sorted(collaborators.items()))


def _collaborator_changes(before: Any, after: Any) -> list[str]:
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    lines = [f"collaborator added: {k} ({v})" for k, v in sorted(new.items()) if k not in old]
    lines += [
        f"collaborator {k}: {old[k]} -> {v}"
        for k, v in sorted(new.items())
        if k in old and old[k] != v
    ]
    lines += [f"collaborator removed: {k}" for k in sorted(old) if k not in new]
    return lines


def _entry(commit: git.Commit, changes: list[str], state: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        sha=commit.hexsha,
        date=commit.committed_datetime,
        author=f"{commit.author.name} <{commit.author.email}>",
        subject=str(commit.summary),
        changes=tuple(changes),
        state=state,
    )


def history_as_json(entries: Iterable[HistoryEntry]) -> str:
    return json.dumps(
        [
            {
                "sha": e.sha,
                "date": e.date.isoformat(),
                "author": e.author,
                "subject": e.subject,
                "changes": list(e.changes),
            }
            for e in entries
        ],
        indent=2,
    )
