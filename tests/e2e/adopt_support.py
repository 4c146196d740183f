"""Helpers for `import` and `fmt` tests: a small repository, the real CLI, seeds, git.

The CLI runs in-process through click's runner; `import` and `plan` talk to the
embedded sandbox over real HTTP on 127.0.0.1, seeded from the repository's
``sandbox.seed.yaml`` (or from a database prepared here beforehand).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from support.repo import EXPERT, Repo, git
from support.sites import COMMENTED_SITE, COMMENTS, PEOPLE, resolve_site

__all__ = ["COMMENTED_SITE", "COMMENTS", "EXPERT", "PEOPLE", "Repo", "git", "resolve_site"]

CONFIG_TEXT = f"expert: {EXPERT}\n"
PEOPLE_TEXT = """\
# Handles used in site files instead of e-mail addresses.
tom:
  email: tom@freelance.example
  name: Tom Freelance
anna:
  email: anna@acme-bakery.example
"""


def make_repo(root: Path) -> Repo:
    repo = Repo(root, {"NO_COLOR": "1", "RECONCILER_DEBUG": "1"})
    repo.write("reconciler.yaml", CONFIG_TEXT)
    repo.write("people.yaml", PEOPLE_TEXT)
    (root / "sites").mkdir()
    return repo


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
