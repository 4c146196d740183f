"""Helpers for `import` and `fmt` tests: a small repository, the real CLI, seeds, git.

The CLI runs in-process through click's runner; `import` and `plan` talk to the
embedded sandbox over real HTTP on 127.0.0.1, seeded from the repository's
``sandbox.seed.yaml`` (or from a database prepared here beforehand).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from reconciler.cli import cli
from reconciler.desired.config import Config, People, Person
from reconciler.desired.loader import parse_yaml
from reconciler.desired.sitefile import SiteResolver
from reconciler.model import DesiredSite
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.store import SandboxStore

EXPERT = "studio@pixel.example"
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


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Repo:
    """A repository under construction: write files, seed the sandbox, run the CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def site_path(self, site_id: str) -> Path:
        return self.root / "sites" / f"{site_id}.yaml"

    def read_site(self, site_id: str) -> str:
        return self.site_path(site_id).read_text(encoding="utf-8")

    def run(self, *args: str) -> Outcome:
        runner = CliRunner()
        result = runner.invoke(
            cli,
            ["--root", str(self.root), *args],
            env={"NO_COLOR": "1", "RECONCILER_DEBUG": "1"},
            catch_exceptions=False,
        )
        return Outcome(result.exit_code, result.stdout, result.stderr)

    @property
    def db(self) -> Path:
        return self.root / ".reconciler" / "sandbox.db"

    def seed(self, seed: dict[str, Any]) -> None:
        """Write ``sandbox.seed.yaml``; the embedded sandbox starts from it."""
        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        with (self.root / "sandbox.seed.yaml").open("w", encoding="utf-8") as stream:
            yaml.dump(seed, stream)

    def start_sandbox(self) -> SandboxStore:
        """Create the embedded sandbox's database from the seed now (the CLI then reuses
        it), so that a test can change the platform's state the seed cannot express."""
        store = SandboxStore(self.db)
        seed_file(store, self.root / "sandbox.seed.yaml")
        return store

    def snapshot(self) -> dict[str, bytes]:
        return {
            str(path.relative_to(self.root)): path.read_bytes()
            for path in sorted((self.root / "sites").iterdir())
        }


def make_repo(root: Path) -> Repo:
    repo = Repo(root)
    repo.write("reconciler.yaml", CONFIG_TEXT)
    repo.write("people.yaml", PEOPLE_TEXT)
    (root / "sites").mkdir()
    return repo


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Reconciler CI",
        "GIT_AUTHOR_EMAIL": "ci@pixel.example",
        "GIT_COMMITTER_NAME": "Reconciler CI",
        "GIT_COMMITTER_EMAIL": "ci@pixel.example",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout


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
