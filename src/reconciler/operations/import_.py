"""``import``: site files written from the platform's current state."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.loader import inspect_repository
from reconciler.errors import ReconcilerError
from reconciler.operations.workspace import observe, open_platform
from reconciler.reconcile.adopt import Adopter, ImportReport


@dataclass(frozen=True)
class ImportOperation:
    """Import ``site_ids``, or every site the expert can see when None.

    Needs only a valid reconciler.yaml: a site file that does not validate yet is
    updated in place like any other.
    """

    root: Path
    environ: Mapping[str, str]
    site_ids: Collection[str] | None

    def run(self) -> ImportReport:
        outcome = inspect_repository(self.root)
        if outcome.config is None:
            raise ReconcilerError("reconciler.yaml is invalid; run `reconciler validate` first")
        with open_platform(self.root, outcome.config, self.environ) as client:
            observed = observe(client)
        adopter = Adopter(self.root, outcome.config, outcome.people)
        return adopter.import_sites(observed, self.site_ids)
