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


def changes_left(repo: GitRepo) -> list[tuple[str, str]]:
    plan = json.loads(run(repo, "plan", "--format", "json").stdout)
    return [(c["site"], c["action"]) for c in plan["changes"]]


def test_apply_changed_since_applies_only_the_changed_sites(branch: GitRepo) -> None:
    base = branch.git("rev-parse", "main")

    result = run(branch, "apply", "--yes", "--changed-since", base)

    assert result.exit_code == 0, result.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        result.output
    )
    assert "Not applied: 1 other pending change on 1 site" in result.output
    assert "Apply: 1 done, 0 failed, 0 skipped." in result.output
    assert changes_left(branch) == [("old-shop", "collaborator.remove")]


def test_apply_changed_since_needs_git_and_no_plan_file(branch: GitRepo, tmp_path: Path) -> None:
    unknown = run(branch, "apply", "--yes", "--changed-since", "origin/main")
    both = run(branch, "apply", str(branch.root / "reconciler.yaml"), "--changed-since", "main")

    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: unknown git ref 'origin/main'")
    assert both.exit_code == 1
    assert both.stderr == (
        "error: give a plan file or --changed-since, not both: a saved plan already says "
        "which sites it applies\n"
    )
    assert len(changes_left(branch)) == 2  # nothing applied


def test_policy_require_approval_gates_every_apply(branch: GitRepo) -> None:
    branch.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\npolicy:\n  require_approval: [transfer.start]\n",
    )
    branch.commit("Handovers need approval, always")

    result = run(branch, "apply", "--yes")  # no --require-approval, no GitHub set up

    assert result.exit_code == 1
    assert "GITHUB_TOKEN is not set" in result.stderr
    assert len(changes_left(branch)) == 2


def test_skip_approval_overrides_and_the_note_says_who(branch: GitRepo) -> None:
    branch.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\npolicy:\n  require_approval: [transfer.start]\n",
    )
    branch.commit("Handovers need approval, always")

    result = run(branch, "apply", "--yes", "--skip-approval")

    assert result.exit_code == 0, result.output
    assert changes_left(branch) == []
    note = branch.git("notes", "--ref", "refs/notes/reconciler", "show", "HEAD")
    assert note.splitlines()[-1] == (
        "approval gate skipped (--skip-approval) by Reconciler CI <ci@pixel.example>"
    )
