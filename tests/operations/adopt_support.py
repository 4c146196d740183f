"""Helpers for `import` and `fmt` tests: a small repository, the real CLI, seeds, git.

The CLI runs in-process through click's runner; `import` and `plan` talk to the
embedded sandbox over real HTTP on 127.0.0.1, seeded from the repository's
``sandbox.seed.yaml`` (or from a database prepared here beforehand).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from reconciler.desired.config import Config, People, Person
from reconciler.desired.loader import parse_yaml
from reconciler.desired.sitefile import SiteResolver
from reconciler.model import DesiredSite
from support.repo import EXPERT, Repo, git

__all__ = ["EXPERT", "Repo", "git"]

CONFIG_TEXT = f"expert: {EXPERT}\n"
PEOPLE_TEXT = """\
# Handles used in site files instead of e-mail addresses.
tom:
  email: tom@freelance.example
  name: Tom Freelance
anna:
  email: anna@acme-bakery.example
"""
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


def make_repo(root: Path) -> Repo:
    repo = Repo(root, {"NO_COLOR": "1", "RECONCILER_DEBUG": "1"})
    repo.write("reconciler.yaml", CONFIG_TEXT)
    repo.write("people.yaml", PEOPLE_TEXT)
    (root / "sites").mkdir()
    return repo


def resolve_site(text: str, file: str = "sites/acme-bakery.yaml") -> DesiredSite:
    """The desired site a file declares; fails the test with the problems if invalid."""
    parsed = parse_yaml(text, file)
    assert parsed.document is not None, parsed.problems
    assert not parsed.problems, parsed.problems
    site = SiteResolver(CONFIG, PEOPLE).resolve(parsed.document)
    assert not isinstance(site, list), [str(p) for p in site]
    return site


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# --- a seed of many sites, of every kind the expert meets ------------------------------

CLIENTS = 40
FREELANCERS = ("tom@freelance.example", "ines@freelance.example", "joe@contractor.example")


def client(i: int) -> str:
    return f"owner{i % CLIENTS}@client{i % CLIENTS}.example"


def big_seed(count: int) -> dict[str, Any]:
    """``count`` sites, in six kinds, plus ``pending-handover`` (expert-owned; a test
    starts a transfer on it)."""
    accounts: list[dict[str, Any]] = [
        {"email": EXPERT, "kind": "expert", "token": "studio-token"},
        {"email": "anna@acme-bakery.example", "kind": "customer"},
        *({"email": email, "kind": "customer"} for email in FREELANCERS),
        *({"email": client(i), "kind": "customer"} for i in range(CLIENTS)),
    ]
    sites = [_site(i) for i in range(count)]
    sites.append(
        {
            "id": "pending-handover",
            "name": "Pending Handover",
            "owner": EXPERT,
            "collaborators": {"tom@freelance.example": "viewer"},
        }
    )
    return {"accounts": accounts, "sites": sites}


def _site(i: int) -> dict[str, Any]:
    kind = i % 6
    site: dict[str, Any] = {"id": f"site-{i:03d}", "name": f"Site {i}"}
    if kind == 0:  # the expert's work in progress; a freelancer from people.yaml
        site |= {"owner": EXPERT, "collaborators": {"tom@freelance.example": "editor"}}
    elif kind == 1:  # the expert's premium site, invoiced to its accounts address
        site |= {
            "name": f"Café #{i}: Bar & Grill",
            "owner": EXPERT,
            "billing_contact": "accounts@pixel.example",
            "package": "premium",
            "collaborators": {client(i): "viewer", "ines@freelance.example": "editor"},
        }
    elif kind == 2:  # handed over; the expert stays as editor
        site |= {"owner": client(i), "collaborators": {EXPERT: "editor"}}
    elif kind == 3:  # handed over, premium, invoices to the client's accounts address
        domain = client(i).partition("@")[2]
        site |= {
            "owner": client(i),
            "billing_contact": f"billing@{domain}",
            "package": "premium",
            "collaborators": {
                EXPERT: "admin",
                "anna@acme-bakery.example": "viewer",
                "joe@contractor.example": "editor",
            },
        }
    elif kind == 4:  # nobody but the owner
        site |= {"owner": EXPERT, "collaborators": {}}
    else:  # a client's site the expert may only look at
        site |= {"owner": client(i), "collaborators": {EXPERT: "viewer"}}
    return site
