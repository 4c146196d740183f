"""Dry runs asked while the site files are still being read (issue 20).

A plan's preflight (DESIGN.md section 5) needs every site file and the platform's
listing; the listing is usually in long before the last file is read, and the platform
answers a batch of dry runs while this process reads on. So, as soon as the listing is
in, each site file read from then on whose site may need a dry run (its owner or
package differs from the platform's) is diffed alone, and every full batch of its dry
runs (500) is asked at once, on the thread that listed the sites.

The plan itself is still made, and preflighted, from everything once every file is read:
a dry run asked early is only the answer to that exact write (the same site, body and
version), kept for the plan's own preflight so that it does not ask again. One asked
early that the plan does not hold (its memory of handovers, read later, holds it back)
is never used. Only full batches are asked early: the rest go with the plan's own, so a
plan makes no more batches than ceil(dry runs / 500), as before.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from reconciler.model import DesiredSite, ObservedSite
from reconciler.platform.base import Capability, DryRun, DryRunAnswer, Platform
from reconciler.platform.errors import PlatformError, StaleVersion
from reconciler.reconcile.diff import Facts
from reconciler.reconcile.plan import site_changes
from reconciler.reconcile.preflight import site_dry_runs, write_of

log = logging.getLogger("reconciler")

BATCH = 500  # the platform's largest batch of dry runs (DESIGN.md section 6)
HAND_OVER = 200  # site files handed to the listing's thread at a time


class EarlyPreflight:
    """Site files handed over as they are read (``add``, then ``finish``), dry-run in
    full batches by ``run`` on the listing's thread; ``answers`` once both are done."""

    def __init__(self, expert: str, batch: int | None = None, hand_over: int = HAND_OVER) -> None:
        self.expert = expert
        self.batch = batch or BATCH
        self.hand_over = hand_over
        self.answers: dict[DryRun, DryRunAnswer] = {}
        # Handed over a few hundred at a time: waking the other thread for every file
        # would cost more switches than its work.
        self._sites: queue.SimpleQueue[list[DesiredSite] | None] = queue.SimpleQueue()
        self._read: list[DesiredSite] = []
        self._abandoned = False

    # -- the thread that reads the files --

    def add(self, site: DesiredSite) -> None:
        self._read.append(site)
        if len(self._read) >= self.hand_over:
            self._sites.put(self._read)
            self._read = []

    def finish(self, *, abandoned: bool = False) -> None:
        """Every file is read (``abandoned``: reading failed, ask nothing more)."""
        self._abandoned = self._abandoned or abandoned
        self._sites.put(self._read)
        self._read = []
        self._sites.put(None)

    # -- the thread that listed the sites --

    def run(self, platform: Platform, observed: Mapping[str, ObservedSite]) -> None:
        """Until ``finish``: each full batch of the dry runs of the sites added, asked."""
        if Capability.DRY_RUN not in platform.capabilities:
            self._drain()
            return
        facts = Facts(now=platform.clock() or datetime.now(UTC))
        waiting: list[DryRun] = []
        while (read := self._sites.get()) is not None:
            for site in read:
                have = observed.get(site.id)
                if self._abandoned or have is None or not _may_dry_run(site, have):
                    continue
                changes = site_changes(
                    self.expert, site, have, platform.capabilities, facts, platform.traits
                )
                waiting += (DryRun(write_of(c), have.version) for c in site_dry_runs(changes))
            while len(waiting) >= self.batch and not self._abandoned:
                self._ask(platform, waiting[: self.batch])
                del waiting[: self.batch]

    def _drain(self) -> None:
        while self._sites.get() is not None:
            pass

    def _ask(self, platform: Platform, batch: Sequence[DryRun]) -> None:
        try:
            answers = platform.dry_run(batch)
        except PlatformError as exc:  # the plan's own preflight asks again, and says so
            log.debug("early dry runs failed: %s", exc.message)
            return
        # An answer that is no verdict on the write (the platform failed, the connection
        # broke) is not kept: the plan's own preflight asks that write again.
        self.answers.update(
            (asked, answer)
            for asked, answer in zip(batch, answers, strict=True)
            if answer is None or answer.is_refusal or isinstance(answer, StaleVersion)
        )


def _may_dry_run(want: DesiredSite, have: ObservedSite) -> bool:
    """Whether a plan of the site can hold a ``transfer.start`` or ``package.purchase``:
    the file names another owner, or a package the site does not have."""
    return want.owner != have.owner or (want.package is not None and want.package != have.package)
