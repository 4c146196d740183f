"""`reconciler apply` in a git repository: the dirty check, the git note and approvals.

The platform is the embedded sandbox; GitHub is the local fake on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fake_github import FakeGitHub, pull, review
from git_support import GitRepo

from reconciler.cli import cli

SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
  - {email: anna@acme-bakery.example, kind: customer}
sites:
  - {id: acme-bakery, name: ACME, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free, collaborators: {}}
  - {id: bistro-verde, name: Bistro, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free, collaborators: {}}
"""


@pytest.fixture
def merged(tmp_path: Path) -> GitRepo:
    """main after merging a pull request that hands ACME over and shares Bistro."""
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    made.write("sandbox.seed.yaml", SEED)
    made.site("acme-bakery", collaborators={})
    made.site("bistro-verde", collaborators={})
    made.commit("Manage two sites")
    made.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    made.site("bistro-verde", collaborators={"tom@freelance.example": "viewer"})
    made.commit("Hand ACME over to Anna; preview for Tom", author="carol")
    return made


def run(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(repo.root), *args], env={"NO_COLOR": "1", **(env or {})}
    )


def test_apply_refuses_uncommitted_site_changes_unless_allowed(merged: GitRepo) -> None:
    merged.site("bistro-verde", collaborators={})

    refused = run(merged, "apply", "--yes")
    allowed = run(merged, "apply", "--yes", "--allow-dirty")

    assert refused.exit_code == 1
    assert (
        "error: uncommitted changes to the desired state (sites/bistro-verde.yaml)"
        in refused.output
    )
    assert "pass --allow-dirty" in refused.output
    assert allowed.exit_code == 0, allowed.output


def test_apply_records_a_git_note_on_the_applied_commit(merged: GitRepo) -> None:
    result = run(merged, "apply", "--yes")

    assert result.exit_code == 0, result.output
    note = merged.note(merged.head())
    assert note is not None
    assert note.startswith("reconciler apply at ")
    assert "Apply: 2 done, 0 failed, 0 skipped." in note
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in note


def test_unapproved_handover_is_skipped_and_the_rest_applies(
    merged: GitRepo, github: FakeGitHub
) -> None:
    github.pulls[merged.head()] = [pull(7, "carol")]
    github.reviews[7] = [review("carol", "APPROVED", merged.head())]  # only the author

    result = run(merged, "apply", "--yes", "--require-approval", env=github.environ)

    assert result.exit_code == 0, result.output
    assert "skipped acme-bakery: transfer.start" in result.output
    assert "pull request #7" in result.output
    assert "done    bistro-verde: collaborator.add give tom@freelance.example viewer" in (
        result.output
    )
    assert github.token not in result.output
    again = run(merged, "plan", "--format", "json")
    assert '"action": "transfer.start"' in again.output  # still to do once approved


def test_approved_handover_is_applied(merged: GitRepo, github: FakeGitHub) -> None:
    github.pulls[merged.head()] = [pull(7, "carol")]
    github.reviews[7] = [review("dave", "APPROVED", merged.head())]
    github.permissions["dave"] = "write"

    result = run(merged, "apply", "--yes", "--require-approval", env=github.environ)

    assert result.exit_code == 0, result.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        result.output
    )


def test_require_approval_needs_the_github_environment(merged: GitRepo) -> None:
    result = run(merged, "apply", "--yes", "--require-approval")

    assert result.exit_code == 1
    assert "GITHUB_TOKEN" in result.output
    assert "Traceback" not in result.output
