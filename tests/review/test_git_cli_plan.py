"""`reconciler plan --changed-since REF` end to end, on the embedded sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from git_support import GitRepo

from reconciler.cli import cli

SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
  - {email: anna@acme-bakery.example, kind: customer}
sites:
"""
SITE = (
    "  - {{id: {0}, name: {1}, owner: studio@pixel.example, "
    "billing_contact: studio@pixel.example, package: free, collaborators: {{}}}}\n"
)


@pytest.fixture
def branch(tmp_path: Path) -> GitRepo:
    """Three managed sites in sync with the sandbox on main; a branch changes two."""
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    sites = ["acme-bakery", "bistro-verde", "old-shop"]
    made.write("sandbox.seed.yaml", SEED + "".join(SITE.format(s, s.title()) for s in sites))
    for site in sites:
        made.site(site, collaborators={})
    made.commit("Manage three sites")
    made.checkout("-b", "handover")
    made.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    made.remove("sites/bistro-verde.yaml")
    made.commit("Hand ACME over, stop managing Bistro Verde", author="carol")
    return made


def plan(repo: GitRepo, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(repo.root), "plan", *args])


def test_only_the_changed_sites_are_planned(branch: GitRepo) -> None:
    result = plan(branch, "--changed-since", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    the_plan = json.loads(result.stdout)
    assert the_plan["scope"] == ["acme-bakery", "bistro-verde"]
    assert [(c["site"], c["action"]) for c in the_plan["changes"]] == [
        ("acme-bakery", "transfer.start")
    ]
    assert [(n["site"], n["kind"]) for n in the_plan["notes"]] == [("bistro-verde", "unmanaged")]


def test_a_sha_and_the_detailed_exitcode(branch: GitRepo) -> None:
    base = branch.git("rev-parse", "main")

    changed = plan(branch, "--changed-since", base[:12], "--detailed-exitcode")
    branch.checkout("main")
    unchanged = plan(branch, "--changed-since", "handover", "--detailed-exitcode")

    assert changed.exit_code == 2, changed.output
    assert "acme-bakery" in changed.stdout
    assert unchanged.exit_code == 0, unchanged.output


def test_an_unknown_ref_is_a_clear_error(branch: GitRepo) -> None:
    result = plan(branch, "--changed-since", "origin/main")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown git ref 'origin/main'; give a branch")
    assert "Traceback" not in result.output
