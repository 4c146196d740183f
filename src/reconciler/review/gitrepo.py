"""Everything that touches git (gitpython): changed sites, history, dirty checks, notes.

The one module that imports git. It reads commits and blobs; what a past state of a
site file was and what a commit changed in it is worked out in ``review.history``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Concatenate, ParamSpec, TypeVar

import git
from git.exc import BadName, GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from reconciler.desired.config import CONFIG_FILE, PEOPLE_FILE, SITES_DIR
from reconciler.desired.reading import FILE_LIMIT
from reconciler.errors import ConfigError
from reconciler.review.history import (
    NOT_A_MAPPING,
    HistoryEntry,
    describe_changes,
    handle_email,
    key_values,
    state_before,
    tracked_state,
)
from reconciler.review.notes import has_complete_block

NOTES_REF = "refs/notes/reconciler"
SHALLOW = (
    "the clone has no history before HEAD; fetch with fetch-depth: 0 (in "
    "actions/checkout), or `git fetch --unshallow`"
)


class NotARepository(ConfigError):
    """No git repository holds the folder (not an error for every command)."""


_SITE_SUFFIXES = (".yaml", ".yml")

P = ParamSpec("P")
R = TypeVar("R")


def _releasing(
    method: Callable[Concatenate[GitRepository, P], R],
) -> Callable[Concatenate[GitRepository, P], R]:
    """Stop gitpython's persistent ``git cat-file`` helpers when ``method`` returns.

    So that a caller that forgets ``with`` or ``close()`` leaks no process; the next
    call starts them again when needed.
    """

    @functools.wraps(method)
    def wrapper(self: GitRepository, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.repo.git.clear_cache()

    return wrapper


class GitRepository:
    """The repository holding the site files.

    Every public method releases git's helper processes before it returns; ``close()``
    (or ``with GitRepository.open(root) as repo:``) is still the tidy way to finish.
    """

    def __init__(self, repo: git.Repo, root: Path) -> None:
        self.repo = repo
        self.root = root

    def __enter__(self) -> GitRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop gitpython's helper processes (``with GitRepository.open(root) as repo:``)."""
        self.repo.close()

    @classmethod
    def open(cls, root: Path) -> GitRepository:
        """The repository holding ``root``: ``NotARepository`` when there is none, a
        ``ConfigError`` when there is one that git cannot read (a corrupt HEAD)."""
        try:
            repo = git.Repo(root, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            broken = _broken_repository(root)
            if broken is not None:
                raise ConfigError(broken) from None
            raise NotARepository(
                f"{root} is not in a git repository; this command needs the site files in git"
            ) from None
        return cls(repo, root)

    # --- what changed ---------------------------------------------------------------

    @_releasing
    def changed_site_ids(self, ref: str) -> set[str] | None:
        """Sites whose files changed between ``ref`` and the working tree; None for all.

        Compared from the merge base, as a pull request shows it: commits that reached
        ``ref`` after the branch started are not this branch's changes. Added, modified,
        renamed (both names) and deleted files count, and untracked new files too. A
        change to reconciler.yaml or people.yaml can change any site (a handle's e-mail,
        the expert), so then every site is planned.
        """
        sites, shared = self.changed_scope(ref)
        return None if shared else sites

    @_releasing
    def changed_scope(self, ref: str) -> tuple[set[str], list[str]]:
        """The sites whose files changed since ``ref`` (as ``changed_site_ids``), and
        which of reconciler.yaml and people.yaml changed (then every site is in scope)."""
        base = self._merge_base(ref)
        paths = {
            p
            for item in base.diff(None, find_renames=True)
            for p in (item.a_path, item.b_path)
            if p
        }
        paths |= set(self.repo.untracked_files)
        prefix = self._prefix()
        shared = [
            name for name in (CONFIG_FILE, PEOPLE_FILE) if str(PurePosixPath(prefix, name)) in paths
        ]
        return self._site_ids(paths), shared

    def _merge_base(self, ref: str) -> git.Commit:
        commit = self._commit(ref)
        try:
            head = self.repo.head.commit
        except ValueError:  # no commits yet
            return commit
        try:
            bases = self.repo.merge_base(commit, head)
        except GitCommandError:
            if self._is_shallow():  # HEAD names its parent, whose commit was not fetched
                raise ConfigError(SHALLOW) from None
            raise
        return bases[0] if bases else commit

    def _is_shallow(self) -> bool:
        return str(self.repo.git.rev_parse("--is-shallow-repository")).strip() == "true"

    def _commit(self, ref: str) -> git.Commit:
        try:
            return self.repo.commit(ref)
        except (BadName, ValueError, GitCommandError):
            if self._is_shallow():
                raise ConfigError(SHALLOW) from None
            raise ConfigError(
                f"unknown git ref {ref!r}; give a branch, tag or commit that this clone has, "
                "fetched with enough history: fetch it first (`git fetch origin main`, or "
                "`git fetch --unshallow` in a "
                "shallow clone; in GitHub Actions: actions/checkout with `fetch-depth: 0`)"
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

    @_releasing
    def uncommitted_desired_state(self) -> list[str]:
        """Paths under sites/, reconciler.yaml or people.yaml whose content on disk is not
        what HEAD holds: apply reads the disk, so these would apply uncommitted state.

        Staged, unstaged and untracked files count; so do ignored files that would be
        read as site files, files git was told not to look at (``--skip-worktree``,
        ``--assume-unchanged``) that differ from HEAD, and, before the first commit,
        every file of the desired state.
        """
        prefix = self._prefix()
        watched = [
            str(PurePosixPath(prefix, name)) for name in (SITES_DIR, CONFIG_FILE, PEOPLE_FILE)
        ]
        status = self.repo.git.status(
            "--porcelain=v1", "-z", "--ignored=matching", "--untracked-files=all", "--", *watched
        )
        dirty = set()
        for path, ignored in _status_paths(str(status)):
            if not ignored or self._read_as_desired_state(path):
                dirty.add(path)
        return sorted(dirty | self._hidden_changes(watched))

    def _read_as_desired_state(self, path: str) -> bool:
        """Whether the loader reads ``path`` (site files are sites/*.yaml, not hidden)."""
        pure = PurePosixPath(path)
        prefix = PurePosixPath(self._prefix())
        if pure in (prefix / CONFIG_FILE, prefix / PEOPLE_FILE):
            return True
        return (
            pure.parent == prefix / SITES_DIR
            and pure.suffix in _SITE_SUFFIXES
            and not pure.name.startswith(".")
        )

    def _hidden_changes(self, watched: list[str]) -> set[str]:
        """Files flagged so that git does not compare them, whose content differs from
        HEAD's (``git ls-files -v``: ``S`` for skip-worktree, lower case for
        assume-unchanged)."""
        listing = str(self.repo.git.ls_files("-v", "-z", "--", *watched))
        flagged = [
            entry[2:]
            for entry in listing.split("\0")
            if entry and (entry[0] == "S" or entry[0].islower())
        ]
        if not flagged:
            return set()
        top = Path(self.repo.working_tree_dir or self.root)
        return {path for path in flagged if not self._same_as_head(top / path, path)}

    def _same_as_head(self, on_disk: Path, path: str) -> bool:
        """Whether the file on disk holds HEAD's bytes (sizes first: nothing too large
        for the loader is read)."""
        try:
            blob = self.repo.head.commit.tree / path
            size = on_disk.stat().st_size
        except (KeyError, ValueError, OSError):  # not at HEAD, no commit yet, no file
            return False
        if size != blob.size or size > FILE_LIMIT.max_bytes():
            return False
        data: bytes = blob.data_stream.read()
        return _read_bytes(on_disk) == data

    @_releasing
    def identity(self) -> str | None:
        """``Name <email>`` from git's configuration (user.name, user.email), if set."""
        reader = self.repo.config_reader()
        name = str(reader.get_value("user", "name", "")).strip()
        email = str(reader.get_value("user", "email", "")).strip()
        if not name and not email:
            return None
        return f"{name} <{email}>".strip() if email else name

    @_releasing
    def head_sha(self) -> str | None:
        try:
            return str(self.repo.head.commit.hexsha)
        except ValueError:
            return None

    @_releasing
    def add_note(self, sha: str, text: str) -> None:
        """Append ``text`` to the note of ``sha`` under refs/notes/reconciler."""
        try:  # git would note a full SHA that names no object
            self.repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except GitCommandError:
            raise ConfigError(
                f"could not record the git note on {sha[:12]}: no such commit here"
            ) from None
        try:
            self.repo.git.notes("--ref", NOTES_REF, "append", "-m", text, sha)
        except GitCommandError as exc:
            raise ConfigError(
                f"could not record the git note on {sha[:12]}: {exc.stderr}"
            ) from None

    @_releasing
    def notes(self) -> list[tuple[str, str]]:
        """Every note under refs/notes/reconciler, as (commit, text) pairs."""
        return [(commit, self._note_text(blob)) for commit, blob in self._note_blobs().items()]

    def _note_text(self, blob: str) -> str:
        """A note's text, through git's one long-running `cat-file --batch`."""
        data: bytes = self.repo.odb.stream(bytes.fromhex(blob)).read()
        return data.decode("utf-8", errors="replace").rstrip("\n")

    @_releasing
    def last_complete_apply(self) -> str | None:
        """The newest commit of HEAD's first-parent history whose note has the block of
        a complete apply (DESIGN.md section 8), or None: the base of
        ``--since-last-apply``. A commit off that line (a merged branch's) never is.
        Notes are read newest first until one is complete (usually the first)."""
        blobs = self._note_blobs()
        if not blobs:
            return None
        try:
            line = str(self.repo.git.rev_list("--first-parent", "HEAD")).split()
        except GitCommandError:  # no commits yet
            return None
        for commit in line:
            blob = blobs.get(commit)
            if blob is not None and has_complete_block(self._note_text(blob)):
                return commit
        return None

    def _note_blobs(self) -> dict[str, str]:
        """Each noted commit and its note's blob (one `git notes list`)."""
        try:
            listing = str(self.repo.git.notes("--ref", NOTES_REF, "list"))
        except GitCommandError:  # no notes yet
            return {}
        pairs = (line.partition(" ") for line in listing.splitlines())
        return {commit: blob for blob, _, commit in pairs if commit}

    @_releasing
    def tracks(self, path: str) -> bool:
        """Whether git tracks the file ``path`` (relative to the root), or a file (a
        committed link) in place of its folder."""
        pure = PurePosixPath(self._prefix(), path)
        wanted = {str(pure), str(pure.parent)}
        listing = str(self.repo.git.ls_files("-z", "--", *sorted(wanted)))
        return any(entry in wanted for entry in listing.split("\0"))

    # --- history --------------------------------------------------------------------

    @_releasing
    def history(self, site_id: str) -> list[HistoryEntry]:
        """Each commit that changed the site's owner, billing contact or collaborators.

        Oldest first. A change stays with the commit that made it: a merge commit shows
        only what it changed itself (a conflict resolved to a new value), not what it
        brought in from the other side, as ``git log`` shows it.
        """
        return [
            _entry(revision.commit, changes)
            for revision in self._revisions(site_id)
            if (changes := describe_changes(revision.before, revision.after))
        ]

    @_releasing
    def last_commit_touching(self, site_id: str) -> str | None:
        """The newest commit reachable from HEAD that changed sites/<site_id>.yaml."""
        try:
            sha = self.repo.git.rev_list("-1", "HEAD", "--", *self._site_paths(site_id))
        except GitCommandError:  # no commit yet
            return None
        return str(sha).strip() or None

    @_releasing
    def last_handle_change(self, handle: str) -> str | None:
        """The newest commit reachable from HEAD that changed ``handle``'s e-mail in
        people.yaml (added it, or gave it another address)."""
        path = str(PurePosixPath(self._prefix(), PEOPLE_FILE))
        try:
            commits = self.repo.iter_commits("HEAD", paths=[path], date_order=True)
            for commit in commits:
                now = _handle_email(commit, path, handle)
                if all(_handle_email(parent, path, handle) != now for parent in commit.parents):
                    return str(commit.hexsha)
        except (ValueError, GitCommandError):  # no commit yet, or a shallow clone's edge
            if self.head_sha() is not None and self._is_shallow():
                raise ConfigError(SHALLOW) from None  # never "no change": the gate needs it
            return None
        return None

    @_releasing
    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether ``older`` is in the history of ``newer`` (or is it)."""
        return bool(self.repo.is_ancestor(self.repo.commit(older), self.repo.commit(newer)))

    @_releasing
    def owner_as_written(self, site_id: str) -> str | None:
        """The site file's ``owner`` at HEAD, as written (a handle, `expert`, an e-mail)."""
        revisions = self._revisions(site_id)
        after = revisions[-1].after if revisions else None
        owner = None if after is None else after.get("owner")
        return owner if isinstance(owner, str) else None

    @_releasing
    def last_owner_change(self, site_id: str) -> str | None:
        """The newest commit reachable from HEAD that set the site's current owner.

        None when the file does not exist at HEAD or no commit reachable from HEAD has it.
        """
        found = self.last_change_of(site_id, ("owner",))
        return None if found is None else found[0]

    @_releasing
    def last_change_of(
        self, site_id: str, keys: tuple[str, ...]
    ) -> tuple[str, frozenset[str]] | None:
        """The commit that gave the site file's ``keys`` the values they have at HEAD,
        with the keys it changed; None when the file does not exist at HEAD.

        It follows the values back: a commit that some parent already gave the same
        values brought them in (a merge), so the search goes on in that parent; the first
        commit whose values differ from every parent's set them. Only commits that touched
        the file are read (git's simplified history, with its rewritten parents).
        """
        paths = self._site_paths(site_id)
        try:
            listed = str(self.repo.git.rev_list("--parents", "HEAD", "--", *paths))
        except GitCommandError:  # no commit yet
            return None
        touched = {sha: rest for sha, *rest in (line.split() for line in listed.splitlines())}
        values = _Values(paths, keys)
        sha = next(iter(touched), None)
        while sha is not None:
            commit = self.repo.commit(sha)
            now = values.at(commit)
            if now is None:  # deleted here: no current values to follow
                return None
            before = self._parent_values(values, commit)
            if all(then != now for then in before):
                return sha, _changed_keys(keys, now, before[0] if before else None)
            sha = next((p for p in touched[sha] if values.at(self.repo.commit(p)) == now), None)
        return None

    def _parent_values(self, values: _Values, commit: git.Commit) -> list[Any]:
        try:
            return [values.at(parent) for parent in commit.parents]
        except ValueError:  # a shallow clone's boundary: its parents were not fetched
            if self._is_shallow():
                raise ConfigError(SHALLOW) from None
            raise

    # --- what a review saw (the approval gate) -----------------------------------------

    @_releasing
    def has_commit(self, sha: str) -> bool:
        """Whether this clone has the commit (a squash-merged branch's commits it lacks)."""
        try:
            self.repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except GitCommandError:
            return False
        return True

    @_releasing
    def site_file(self, site_id: str, ref: str = "HEAD") -> tuple[str, str] | None:
        """(path in the repository, text) of the site's file at ``ref``; None without one."""
        try:
            commit = self.repo.commit(ref)
        except (BadName, ValueError, GitCommandError):
            return None
        for path in self._site_paths(site_id):
            blob = _blob(commit, [path])
            if blob is not None:
                data: bytes = blob.data_stream.read()
                return path, data.decode("utf-8", errors="replace")
        return None

    @_releasing
    def line_edits(self, site_id: str, since: str, keys: Iterable[str]) -> list[str]:
        """Commits after ``since`` (reachable from HEAD, oldest first) that edited the
        text of the site file's line of each of ``keys`` (``owner:``, ``ask_again_after:``):
        a later pull request that shows a handover or a re-ask in its diff, to approve it
        after the fact."""
        paths = self._site_paths(site_id)
        try:
            commits = list(self.repo.iter_commits(f"{since}..HEAD", paths=paths, reverse=True))
        except (ValueError, GitCommandError):
            return []
        wanted = tuple(keys)
        return [
            str(commit.hexsha)
            for commit in commits
            if wanted and all(_edits_line(commit, paths, key) for key in wanted)
        ]

    def _site_paths(self, site_id: str) -> list[str]:
        prefix = self._prefix()
        return [str(PurePosixPath(prefix, SITES_DIR, site_id + s)) for s in _SITE_SUFFIXES]

    def _revisions(self, site_id: str) -> list[_Revision]:
        paths = self._site_paths(site_id)
        try:
            commits = list(
                self.repo.iter_commits("HEAD", paths=paths, reverse=True, date_order=True)
            )
        except (ValueError, GitCommandError):  # no commit yet
            return []
        states = _States(paths)
        revisions = []
        for commit in commits:
            after = states.at(commit)
            before = state_before(after, self._parent_states(states, commit))
            revisions.append(_Revision(commit, before, after))
        return revisions

    def _parent_states(self, states: _States, commit: git.Commit) -> list[Any]:
        """The tracked state in each parent of ``commit``; a shallow clone lacks them at
        its boundary, and guessing "no file before" would misreport who changed what."""
        try:
            return [states.at(parent) for parent in commit.parents]
        except ValueError:
            if self._is_shallow():
                raise ConfigError(SHALLOW) from None
            raise


@dataclass(frozen=True)
class _Revision:
    """A commit that touched a site file, with the tracked state before and after it."""

    commit: git.Commit
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


class _States:
    """The tracked state of one site file in any commit, each blob parsed once."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self._by_blob: dict[str, dict[str, Any] | None] = {}

    def at(self, commit: git.Commit) -> dict[str, Any] | None:
        blob = _blob(commit, self.paths)
        if blob is None:
            return None
        if blob.hexsha not in self._by_blob:
            text = _blob_text(blob)
            state = {"invalid": True} if text is None else tracked_state(text, self.paths[0])
            self._by_blob[blob.hexsha] = state
        return self._by_blob[blob.hexsha]


def _handle_email(commit: git.Commit, path: str, handle: str) -> str | None:
    blob = _blob(commit, [path])
    text = None if blob is None else _blob_text(blob)
    return None if text is None else handle_email(text, path, handle)


def _blob_text(blob: git.Blob) -> str | None:
    """A past version's text; None when it is larger than the loader reads (the same
    limit as on disk, checked before a byte is read)."""
    if blob.size > FILE_LIMIT.max_bytes():
        return None
    data: bytes = blob.data_stream.read()
    return data.decode("utf-8", errors="replace")


class _Values:
    """The values of some keys of one site file in any commit, each blob parsed once."""

    def __init__(self, paths: list[str], keys: tuple[str, ...]) -> None:
        self.paths = paths
        self.keys = keys
        self._by_blob: dict[str, tuple[Any, ...] | None] = {}

    def at(self, commit: git.Commit) -> tuple[Any, ...] | None:
        blob = _blob(commit, self.paths)
        if blob is None:
            return None
        if blob.hexsha not in self._by_blob:
            text = _blob_text(blob)
            self._by_blob[blob.hexsha] = (
                (NOT_A_MAPPING,) * len(self.keys)
                if text is None
                else key_values(text, self.paths[0], self.keys)
            )
        return self._by_blob[blob.hexsha]


def _changed_keys(
    keys: tuple[str, ...], now: tuple[Any, ...], before: tuple[Any, ...] | None
) -> frozenset[str]:
    """The keys whose value ``now`` differs from ``before`` (a file created: every key
    it sets)."""
    then = before or (None,) * len(keys)
    return frozenset(key for key, new, old in zip(keys, now, then, strict=True) if new != old)


def _edits_line(commit: git.Commit, paths: list[str], key: str) -> bool:
    """Whether ``commit`` wrote the top-level ``key:`` line otherwise than every parent."""
    now = _key_line(_blob(commit, paths), key)
    return now is not None and all(
        _key_line(_blob(parent, paths), key) != now for parent in commit.parents
    )


def _key_line(blob: git.Blob | None, key: str) -> str | None:
    """The top-level ``key:`` line as written (comments included)."""
    if blob is None:
        return None
    data: bytes = blob.data_stream.read()
    match = re.search(rf"^{re.escape(key)}\s*:.*$", data.decode("utf-8", errors="replace"), re.M)
    return match.group(0).rstrip() if match else None


def _blob(commit: git.Commit, paths: list[str]) -> git.Blob | None:
    for path in paths:
        try:
            item = commit.tree / path
        except KeyError:
            continue
        if isinstance(item, git.Blob):
            return item
    return None


def _entry(commit: git.Commit, changes: list[str]) -> HistoryEntry:
    return HistoryEntry(
        sha=commit.hexsha,
        date=commit.authored_datetime,
        author=f"{commit.author.name} <{commit.author.email}>",
        subject=str(commit.summary),
        changes=tuple(changes),
    )


def _status_paths(status: str) -> Iterator[tuple[str, bool]]:
    """The paths of ``git status --porcelain=v1 -z`` and whether each is ignored.

    A rename or copy is two entries, the new name then the old one; both count.
    """
    entries = iter(status.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        yield path, code == "!!"
        if code[0] in "RC":
            yield next(entries), False


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _broken_repository(root: Path) -> str | None:
    """Why the repository holding ``root`` cannot be read, when there is one (a ``.git``
    in ``root`` or above); None when there is none."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.exists():
            head = dot_git / "HEAD"
            reason = "git cannot read it"
            if head.is_file() and not _valid_head(head.read_text(errors="replace").strip()):
                reason = ".git/HEAD names no branch or commit"
            return (
                f"the git repository at {folder} is broken ({reason}); repair it "
                "(`git status` shows how)"
            )
    return None


def _valid_head(text: str) -> bool:
    return text.startswith("ref: refs/") or (
        len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
    )
