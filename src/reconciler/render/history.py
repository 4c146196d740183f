"""A site's history (``reconciler history``): one entry per commit that changed it, the
runs that applied changes to it, and how its handovers ended on the platform."""

from __future__ import annotations

import json

from reconciler.model import TransferRecord
from reconciler.render import escape
from reconciler.review.history import SiteHistory


def as_text(history: SiteHistory) -> str:
    """Commit subjects, authors and note lines are anybody's text: each stays on its
    line and starts no workflow command (the runner reads one after leading spaces)."""
    shown = escape.text
    lines = []
    for entry in history.commits:
        lines.append(f"{entry.sha[:10]}  {entry.date:%Y-%m-%d %H:%M}  {shown(entry.author)}")
        lines.append(f"    {shown(entry.subject)}")
        lines += [f"    - {shown(change)}" for change in entry.changes]
    if history.applied:
        lines += ["", "Applied (git notes, refs/notes/reconciler):"]
        for run in history.applied:
            lines.append(f"{shown(run.when)}  on {run.sha[:10]}")
            lines += [f"    {shown(line)}" for line in run.lines]
    if history.transfers or history.platform_problem is not None:
        lines += ["", "Transfers on the platform:"]
    if history.platform_problem is not None:
        lines.append(f"    not shown: {shown(history.platform_problem)}")
    lines += [f"    {shown(_transfer_line(record))}" for record in history.transfers]
    return "\n".join(lines)


def _transfer_line(record: TransferRecord) -> str:
    stay = "the former owner stays" if record.stay_as_collaborator else "the former owner leaves"
    how = (
        f"pending, expires {record.expires_at:%Y-%m-%d}"
        if record.ended_at is None
        else f"{record.status.value} on {record.ended_at:%Y-%m-%d}"
    )
    return (
        f"{record.created_at:%Y-%m-%d}  {record.from_owner} -> {record.to} ({stay}): "
        f"{how}  [{record.id}]"
    )


def as_json(history: SiteHistory) -> str:
    return escape.json_text(_json(history))


def _json(history: SiteHistory) -> str:
    return json.dumps(
        {
            "format_version": 1,
            "commits": [
                {
                    "sha": entry.sha,
                    "date": entry.date.isoformat(),
                    "author": entry.author,
                    "subject": entry.subject,
                    "changes": list(entry.changes),
                }
                for entry in history.commits
            ],
            "applied": [
                {"sha": run.sha, "when": run.when, "lines": list(run.lines)}
                for run in history.applied
            ],
            "transfers": [record.model_dump(mode="json") for record in history.transfers],
            "platform_problem": history.platform_problem,
        },
        indent=2,
    )
