"""``import``: site files written from the platform's current state."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.loader import inspect_repository
from reconciler.operations.adopt import Adopter, ImportReport
from reconciler.operations.configuration import load_config
from reconciler.operations.workspace import interest_in, observe, open_platform
from reconciler.platform.base import Capability, Platform


@dataclass(frozen=True)
class ImportOperation:
    """Import ``site_ids``, or every site the expert can see when None.

    Needs only a valid reconciler.yaml: a site file that does not validate yet is
    updated in place like any other.
    """

    root: Path
    environ: Mapping[str, str]
    site_ids: Collection[str] | None
    platform: Platform | None = None  # instead of the configured one (tests)

    def run(self) -> ImportReport:
        config = load_config(self.root)
        outcome = inspect_repository(self.root, config)
        with open_platform(self.root, config, self.environ, platform=self.platform) as platform:
            interest = interest_in(config.expert, outcome.sites, outcome.people)
            observed = observe(platform, interest)
            billing = Capability.BILLING_CONTACT in platform.capabilities
        adopter = Adopter(self.root, config, outcome.people, billing=billing)
        return adopter.import_sites(observed, self.site_ids)
