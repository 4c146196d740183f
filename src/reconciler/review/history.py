"""A site file's past: its tracked state in a commit and what a commit changed (pure).

``review.gitrepo`` reads the commits and blobs; this module parses a blob's text, works
out the state a commit started from (a merge counts only what it changed itself) and
says in words what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.desired.loader import parse_yaml
from reconciler.model import TransferRecord

TRACKED_FIELDS = ("owner", "billing_contact", "collaborators", "ask_again_after")


@dataclass(frozen=True)
class HistoryEntry:
    """One commit that changed a site's ownership, billing contact or access, or asked
    a client again (``ask_again_after``)."""

    sha: str
    date: datetime
    author: str
    subject: str
    changes: tuple[str, ...]


def tracked_state(text: str, file: str) -> dict[str, Any] | None:
    """The owner, billing contact and collaborators a site file's text declares.

    None for an empty file; ``{"invalid": True}`` when it does not read as a mapping.
    """
    return _tracked(parse_yaml(text, file).document) if text else None


NOT_A_MAPPING = "<not a mapping>"  # the value of every key of a file that is no mapping


def key_values(text: str, file: str, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The values a site file's text gives ``keys`` (e-mails in lower case), None for
    an empty file; what the approval gate follows back to the commit that set them."""
    if not text:
        return None
    data = getattr(parse_yaml(text, file).document, "data", None)
    if not isinstance(data, dict):
        return (NOT_A_MAPPING,) * len(keys)
    return tuple(_lower_emails(data.get(key)) for key in keys)


def handle_email(text: str, file: str, handle: str) -> str | None:
    """The e-mail address people.yaml's ``text`` gives ``handle``, in lower case."""
    document = parse_yaml(text, file).document
    entry = document.data.get(handle) if document and isinstance(document.data, dict) else None
    email = entry.get("email") if isinstance(entry, dict) else None
    return email.strip().lower() if isinstance(email, str) else None


def state_before(
    after: Mapping[str, Any] | None, parents: list[dict[str, Any] | None]
) -> Mapping[str, Any] | None:
    """The state a commit changed: its parent's; for a merge, what no parent had already.

    A value that any parent already had was brought in by the merge, not changed by it,
    so it counts as unchanged here; what remains differs from every parent.
    """
    if not parents:
        return None
    first = parents[0]
    if len(parents) == 1 or after is None or first is None or after in parents:
        return after if after in parents[1:] else first
    known = [p for p in parents if p is not None]
    before = dict(first)
    for key in ("owner", "billing_contact", "ask_again_after"):
        if any(p.get(key) == after.get(key) for p in known):
            before[key] = after.get(key)
    before["collaborators"] = _collaborators_before(
        after.get("collaborators"), [p.get("collaborators") for p in known]
    )
    return before


def _collaborators_before(after: Any, parents: list[Any]) -> Any:
    first = parents[0]
    if after in parents or not isinstance(after, dict) or not isinstance(first, dict):
        return after if after in parents else first
    before = dict(first)
    for email in set(first) | set(after):
        if any(isinstance(p, dict) and p.get(email) == after.get(email) for p in parents):
            if email in after:
                before[email] = after[email]
            else:
                before.pop(email, None)
    return before


def _tracked(document: Any) -> dict[str, Any]:
    data = getattr(document, "data", None)
    if not isinstance(data, dict):
        return {"invalid": True}
    return {key: _lower_emails(data.get(key)) for key in TRACKED_FIELDS}


def _lower_emails(value: Any) -> Any:
    """E-mails compare case-insensitively: Anna@X and anna@x are no change."""
    if isinstance(value, str) and "@" in value:
        return value.lower()
    if isinstance(value, dict):
        return {_lower_emails(key): role for key, role in value.items()}
    return value


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
    return lines + _ask_again_changes(before.get("ask_again_after"), after.get("ask_again_after"))


def _ask_again_changes(before: Any, after: Any) -> list[str]:
    """A re-ask after a declined or expired handover is reviewed like a new handover
    (the approval gate follows this key too), so the history shows it."""
    if before == after:
        return []
    if after is None:
        return ["ask_again_after removed"]
    if before is None:
        return [f"ask_again_after: {after} (asks the recipient again after it)"]
    return [f"ask_again_after: {before} -> {after}"]


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


@dataclass(frozen=True)
class AppliedRun:
    """One ``apply`` that changed the site, from its git note (refs/notes/reconciler)."""

    sha: str  # the applied commit, which carries the note
    when: str  # as the note says: 2026-11-27T04:02:49Z
    lines: tuple[str, ...]  # the result lines about the site


_RUN_HEADER = "reconciler apply at "


def runs_about(site_id: str, notes: Iterable[tuple[str, str]]) -> list[AppliedRun]:
    """The applies recorded in ``notes`` ((commit, note text) pairs) that touched
    ``site_id``, oldest first. A note holds one block per apply of that commit."""
    runs = []
    for sha, text in notes:
        for block in text.split(_RUN_HEADER)[1:]:
            when, *rest = block.strip().splitlines() or [""]
            lines = tuple(line for line in rest if _is_about(line, site_id))
            if lines:
                runs.append(AppliedRun(sha=sha, when=when.strip(), lines=lines))
    return sorted(runs, key=lambda run: (run.when, run.sha))


def _is_about(line: str, site_id: str) -> bool:
    """A result line: ``done    <site>: <action> ...`` (or FAILED, skipped)."""
    parts = line.split(None, 1)
    return len(parts) == 2 and parts[1].startswith(f"{site_id}: ")


@dataclass(frozen=True)
class SiteHistory:
    """What ``reconciler history`` shows: git's commits and notes, the platform's transfers."""

    commits: list[HistoryEntry]
    applied: list[AppliedRun] = field(default_factory=list)
    transfers: list[TransferRecord] = field(default_factory=list)  # oldest first
    platform_problem: str | None = None  # why the platform's part is missing
