"""``history``: a site's owner, billing contact and collaborators over time (git), and
which run applied what (git notes)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.review.gitrepo import GitRepository
from reconciler.review.history import SiteHistory, runs_about


@dataclass(frozen=True)
class HistoryOperation:
    root: Path
    site: str
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def run(self) -> SiteHistory:
        """Oldest first; refused when no commit touches the site's file."""
        with GitRepository.open(self.root) as repository:
            entries = repository.history(self.site)
            applied = runs_about(self.site, repository.notes())
        if not entries:
            raise ReconcilerError(f"no commit touches sites/{self.site}.yaml; check the site id")
        return SiteHistory(entries, applied)
