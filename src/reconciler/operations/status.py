"""``status``: the portfolio from the files and the platform together; never writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.operations.reconcile import Reconciler
from reconciler.platform.base import Platform
from reconciler.reconcile.status import StatusReport, build_status


@dataclass(frozen=True)
class StatusOperation:
    root: Path
    environ: Mapping[str, str]
    platform: Platform | None = None  # instead of the configured one (tests)

    def run(self) -> StatusReport:
        """Read the platform exactly as ``plan`` does (the same list requests, the sent
        transfers and dry runs it makes, the same plan, the platform's clock), then
        describe every site, managed or not."""
        with Reconciler.open(self.root, self.environ, platform=self.platform) as reconciler:
            reconciler.every_sent = True  # "Ended (30d)" counts every transfer sent
            plan = reconciler.plan()
            observed = reconciler.observed()
        facts, state = reconciler.facts, reconciler.state
        return build_status(
            state.config.expert,
            state.sites,
            observed,
            plan,
            now=facts.now or datetime.now(UTC),
            sent=facts.sent.values(),
            every_sent=facts.every_sent,
        )
