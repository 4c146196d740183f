"""Review equals effect: `plan --changed-since REF` shows the changed sites, then every
other pending change that such an apply would NOT make; `apply --changed-since REF`
applies only the changed sites. The embedded sandbox is the platform."""

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
  - {id: acme-bakery, name: ACME, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free, collaborators: {}}
  - {id: old-shop, name: Old Shop, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free,
     collaborators: {tom@freelance.example: editor}}
"""


@pytest.fixture
def branch(tmp_path: Path) -> GitRepo:
    """old-shop has a pending change on main (Tom is to lose access); the branch
    `handover` hands ACME over and touches nothing else."""
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    made.write("sandbox.seed.yaml", SEED)
    made.site("acme-bakery", collaborators={})
    made.site("old-shop", collaborators={})
    made.commit("Manage two sites")
    made.checkout("-b", "handover")
    made.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    made.commit("Hand ACME over to Anna", author="carol")
    return made


def run(repo: GitRepo, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(repo.root), *args], env={"NO_COLOR": "1"})


def test_json_lists_what_such_an_apply_would_not_make(branch: GitRepo) -> None:
    result = run(branch, "plan", "--changed-since", "main", "--format", "json")

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [(c["site"], c["action"]) for c in plan["changes"]] == [
        ("acme-bakery", "transfer.start")
    ]
    assert plan["not_applied"] == [
        {
            "site": "old-shop",
            "action": "collaborator.remove",
            "details": {"email": "tom@freelance.example", "previous_role": "editor"},
        }
    ]
    assert plan["scope_note"] == "Sites whose files changed since main: 1."


def test_text_shows_them_in_a_section_of_their_own_after_the_plan(branch: GitRepo) -> None:
    result = run(branch, "plan", "--changed-since", "main")

    assert result.exit_code == 0, result.output
    plan, _, rest = result.stdout.partition("Not applied: ")
    assert "HANDOVER to anna@acme-bakery.example" in plan
    assert "old-shop" not in plan
    assert rest.splitlines() == [
        "1 other pending change on 1 site outside this plan's scope; applying this plan "
        "does NOT make it:",
        "  - old-shop: collaborator.remove  remove tom@freelance.example (was editor)",
    ]


def test_markdown_shows_the_section_after_the_plan(branch: GitRepo) -> None:
    result = run(branch, "plan", "--changed-since", "main", "--format", "markdown")

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("HANDOVER") < text.index("#### Not applied by this merge (1)")
    assert "- **old-shop** `collaborator.remove` remove tom@freelance.example (was editor)" in text


def test_a_change_to_people_or_the_config_plans_every_site_and_says_so(branch: GitRepo) -> None:
    branch.write("people.yaml", "anna: {email: anna@acme-bakery.example}\n")
    branch.commit("Add Anna's handle")

    result = run(branch, "plan", "--changed-since", "main", "--format", "json")

    plan = json.loads(result.stdout)
    assert plan["scope_note"] == "people.yaml changed since main: every site is planned."
    assert {c["site"] for c in plan["changes"]} == {"acme-bakery", "old-shop"}
    assert plan["not_applied"] == []
    text = run(branch, "plan", "--changed-since", "main").stdout
    assert text.startswith("people.yaml changed since main: every site is planned.\n")


def test_an_unknown_ref_says_what_to_fetch(branch: GitRepo) -> None:
    result = run(branch, "plan", "--changed-since", "origin/main")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown git ref 'origin/main'; give a branch, tag or commit that this clone "
        "has, fetched with enough history: fetch it first (`git fetch origin main`, or "
        "`git fetch --unshallow` in a "
        "shallow clone; in GitHub Actions: actions/checkout with `fetch-depth: 0`)\n"
    )
