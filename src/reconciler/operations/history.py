"""``history``: a site's owner, billing contact and collaborators over time (git), which
run applied what (git notes), and how each of its handovers ended (the platform)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.problems import ValidationFailed, errors_in
from reconciler.errors import ReconcilerError
from reconciler.model import TransferRecord
from reconciler.platform.base import Capability, Platform
from reconciler.platform.errors import NotFound
from reconciler.review.gitrepo import GitRepository
from reconciler.review.history import SiteHistory, runs_about


@dataclass(frozen=True)
class HistoryOperation:
    root: Path
    site: str
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    platform: Platform | None = None  # instead of the configured one (tests)

    def run(self) -> SiteHistory:
        """Oldest first; refused when no commit touches the site's file."""
        with GitRepository.open(self.root) as repository:
            entries = repository.history(self.site)
            applied = runs_about(self.site, repository.notes())
        if not entries:
            raise ReconcilerError(f"no commit touches sites/{self.site}.yaml; check the site id")
        try:
            transfers = self._transfers()
        except ValidationFailed as exc:  # git's part stands on its own
            first = errors_in(exc.problems)[:1]
            why = f"{first[0].location}: {first[0].message}" if first else exc.message
            return SiteHistory(entries, applied, platform_problem=why)
        except ReconcilerError as exc:
            return SiteHistory(entries, applied, platform_problem=exc.message)
        return SiteHistory(entries, applied, transfers)

    def _transfers(self) -> list[TransferRecord]:
        """Every transfer of the site the platform shows the expert: the site's own list,
        or, for a site it no longer sees, the transfers it sent of it."""
        from reconciler.operations.configuration import load_config
        from reconciler.operations.workspace import open_platform

        config = load_config(self.root)
        with open_platform(self.root, config, self.environ, platform=self.platform) as platform:
            found = transfers_of(platform, self.site)
        return sorted(found, key=lambda t: t.created_at)


def transfers_of(platform: Platform, site_id: str) -> list[TransferRecord]:
    """The site's own list of transfers, or, for a site the expert no longer sees, the
    transfers it sent of it; an error when the platform keeps neither."""
    has = platform.capabilities
    if Capability.SITE_TRANSFERS in has:
        try:
            return platform.site_transfers(site_id)
        except NotFound:
            if Capability.SENT_TRANSFERS not in has:
                raise
    if Capability.SENT_TRANSFERS in has:
        return [record for record in platform.sent_transfers() if record.site_id == site_id]
    raise ReconcilerError("this platform keeps no record of transfers; the history is git's")
