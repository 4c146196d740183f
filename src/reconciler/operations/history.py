"""``history``: a site's owner, billing contact and collaborators over time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.review.gitrepo import GitRepository
from reconciler.review.history import HistoryEntry


@dataclass(frozen=True)
class HistoryOperation:
    root: Path
    site: str

    def run(self) -> list[HistoryEntry]:
        """Oldest first; refused when no commit touches the site's file."""
        with GitRepository.open(self.root) as repository:
            entries = repository.history(self.site)
        if not entries:
            raise ReconcilerError(f"no commit touches sites/{self.site}.yaml; check the site id")
        return entries
