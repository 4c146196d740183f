"""``history``: a site's owner, billing contact and collaborators over time (git), which
run applied what (git notes), and how each of its handovers ended (the platform)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.loader import read_config_only
from reconciler.errors import ReconcilerError
from reconciler.model import TransferRecord
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
        try:
            transfers = self._transfers()
        except ReconcilerError as exc:  # git's part stands on its own
            return SiteHistory(entries, applied, platform_problem=exc.message)
        return SiteHistory(entries, applied, transfers)

    def _transfers(self) -> list[TransferRecord]:
        """Every transfer of the site the platform shows the expert: the site's own list,
        or, for a site it no longer sees, the transfers it sent of it."""
        from reconciler.operations.workspace import open_platform
        from reconciler.platform.errors import NotFound
        from reconciler.platform.schema import TransferDirection, to_record

        config = read_config_only(self.root)
        if config is None:
            raise ReconcilerError("reconciler.yaml is missing or invalid")
        with open_platform(self.root, config, self.environ) as client:
            try:
                found = client.site_transfers(self.site)
            except NotFound:
                sent = client.iter_transfers(TransferDirection.SENT)
                found = [record for record in sent if record.site_id == self.site]
        return sorted((to_record(t) for t in found), key=lambda t: t.created_at)
