"""A platform kind installed the way a third party's package installs it, without pip:
a module and its distribution's metadata (``*.dist-info`` with ``entry_points.txt``) in
a folder put on ``sys.path``, where ``importlib.metadata`` finds it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

LISTING_KIND = '''\
"""A platform that can only list sites: every other family falls back (a test kind)."""

from reconciler.model import ObservedSite, Package
from reconciler.platform.base import PlatformBase


class ListingPlatform(PlatformBase):
    def __init__(self, owner, site_ids):
        self.owner = owner
        self.site_ids = site_ids

    def sites(self):
        for site_id in self.site_ids:
            yield ObservedSite(
                id=site_id, name=site_id.title(), owner=self.owner,
                billing_contact=self.owner, package=Package.FREE, collaborators={},
                version=1,
            )


def factory(block, environ):
    sites = block.get("sites")
    if not isinstance(sites, list) or not all(isinstance(site, str) for site in sites):
        raise block.error("sites", "must be a list of site ids")
    return ListingPlatform(block.get("owner", "nobody@listing.example"), sites)
'''


def install_kind(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    kind: str,
    *,
    module: str = "listing_kind",
    source: str = LISTING_KIND,
    attribute: str = "factory",
) -> None:
    """Install a distribution whose entry point registers ``kind`` as ``module:attribute``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [reconciler.platforms]
            {kind} = {module}:{attribute}
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, module, raising=False)
