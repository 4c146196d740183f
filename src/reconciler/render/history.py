"""A site's history (``reconciler history``): one entry per commit that changed it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from reconciler.review.history import HistoryEntry


def as_text(entries: Iterable[HistoryEntry]) -> str:
    lines = []
    for entry in entries:
        lines.append(f"{entry.sha[:10]}  {entry.date:%Y-%m-%d %H:%M}  {entry.author}")
        lines.append(f"    {entry.subject}")
        lines += [f"    - {change}" for change in entry.changes]
    return "\n".join(lines)


def as_json(entries: Iterable[HistoryEntry]) -> str:
    return json.dumps(
        [
            {
                "sha": entry.sha,
                "date": entry.date.isoformat(),
                "author": entry.author,
                "subject": entry.subject,
                "changes": list(entry.changes),
            }
            for entry in entries
        ],
        indent=2,
    )
