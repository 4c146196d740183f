"""Site files as people write them, and what they resolve to."""

from __future__ import annotations

from reconciler.desired.config import Config, People, Person
from reconciler.desired.loader import parse_yaml
from reconciler.desired.sitefile import SiteResolver
from reconciler.model import DesiredSite
from support.repo import EXPERT

CONFIG = Config(expert=EXPERT)
PEOPLE = People(
    by_handle={
        "tom": Person(email="tom@freelance.example"),
        "anna": Person(email="anna@acme-bakery.example"),
    }
)

# A hand-written site file with a comment in every place a person puts one.
COMMENTED_SITE = """\
# yaml-language-server: $schema=../schema/site.schema.json
# top: being handed over to the client

id: acme-bakery                      # inline-id
# between-id-and-name
name: ACME Bakery                    # inline-name
owner: anna                          # inline-owner
# between-owner-and-collaborators
collaborators:                       # inline-collaborators
  # inside-collaborators-first
  studio@pixel.example: editor       # inline-studio
  # inside-collaborators-between
  tom: viewer                        # inline-tom
  # inside-collaborators-last
package: premium                     # inline-package
# trailing-1

# trailing-2
"""
COMMENTS = [
    line.split("#", 1)[1].strip()
    for line in COMMENTED_SITE.splitlines()
    if "#" in line and "schema" not in line
]


def resolve_site(text: str, file: str = "sites/acme-bakery.yaml") -> DesiredSite:
    """The desired site a file declares; fails the test with the problems if invalid."""
    parsed = parse_yaml(text, file)
    assert parsed.document is not None, parsed.problems
    assert not parsed.problems, parsed.problems
    site = SiteResolver(CONFIG, PEOPLE).resolve(parsed.document)
    assert not isinstance(site, list), [str(p) for p in site]
    return site
