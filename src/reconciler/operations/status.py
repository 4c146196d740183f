"""``status``: the portfolio from the files and the platform together; never writes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.operations.reconcile import Reconciler
from reconciler.platform.base import Platform
from reconciler.platform.forked import ForkedPlatform
from reconciler.reconcile.status import StatusReport, build_status


@dataclass(frozen=True)
class StatusOperation:
    root: Path
    environ: Mapping[str, str]
    platform: Platform | None = None  # instead of the configured one (tests)
    sites: Collection[str] | None = None  # ``status SITE...``: these alone
    forked: ForkedPlatform | None = None  # the configured one, opened early in a child

    def run(self) -> StatusReport:
        """Read the platform exactly as ``plan`` does (the same list requests, the sent
        transfers and dry runs it makes, the same plan, the platform's clock), then
        describe every site, managed or not (or the ``sites`` named)."""
        opened = Reconciler.open(
            self.root, self.environ, platform=self.platform, forked=self.forked
        )
        with opened as reconciler:
            reconciler.every_sent = True  # "Ended (30d)" counts every transfer sent
            plan = reconciler.plan()
            observed = reconciler.observed()
        facts, state = reconciler.facts, reconciler.state
        if self.sites is not None:
            _check_known(self.sites, state.sites.keys() | observed.keys())
        return build_status(
            state.config.expert,
            state.sites,
            observed,
            plan,
            now=facts.now or datetime.now(UTC),
            sent=facts.sent.values(),
            every_sent=facts.every_sent,
            only=self.sites,
        )


def _check_known(named: Collection[str], known: Collection[str]) -> None:
    unknown = sorted(set(named) - set(known))
    if unknown:
        raise ReconcilerError(
            f"no site {', '.join(unknown)}: neither a file in sites/ nor a site the expert "
            "can see on the platform"
        )
