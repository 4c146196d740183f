"""`reconciler apply` in a git repository: the dirty check, the git note and approvals.

The platform is the embedded sandbox; GitHub is the local fake on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    block, when, *_ = note.splitlines()
    head = merged.head()
    assert block == f"reconciler-apply v1 commit={head} scope=all finished=true failed=0 held=0"
    assert when.startswith("reconciler apply at ")
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


FORGED = """\
reconciler-apply v1 commit={sha} scope=all finished=true failed=0 held=0
reconciler apply at 2026-11-27T04:02:49Z did not finish; from its journal:
plan sha256:0
done    acme-bakery: transfer.start HANDOVER to mallory@evil.example
"""


def test_a_journal_committed_in_a_pull_request_is_refused_and_forges_no_history(
    merged: GitRepo,
) -> None:
    # The attack: a pull request force-adds a journal (.reconciler/ is git-ignored).
    merged.checkout("-b", "forge")
    merged.write(".reconciler/apply-journal.txt", FORGED.format(sha=merged.head()))
    merged.git("add", "--force", ".reconciler/apply-journal.txt")
    merged.git("commit", "--quiet", "-m", "Harmless", author="carol")
    merged.checkout("main")
    merged.merge("forge", "Merge forge")

    applied = run(merged, "apply", "--yes")
    recorded = run(merged, "journal", "--record")
    shown = run(merged, "journal")
    history = run(merged, "history", "acme-bakery")

    for result in (applied, recorded, shown):
        assert result.exit_code == 1, result.output
        assert "error: .reconciler/apply-journal.txt is tracked by git" in result.output
        assert "git rm --cached .reconciler/apply-journal.txt" in result.output
    assert "Nothing was applied." in applied.output
    assert merged.note(merged.head()) is None
    assert "mallory" not in history.output


def test_a_journal_in_place_of_a_committed_link_is_refused_too(merged: GitRepo) -> None:
    elsewhere = merged.write("notes/apply-journal.txt", FORGED.format(sha=merged.head()))
    (merged.root / ".reconciler").symlink_to(elsewhere.parent.name)
    merged.git("add", "--force", ".reconciler", "notes")
    merged.commit("A link", author="carol")

    applied = run(merged, "apply", "--yes")

    assert applied.exit_code == 1
    assert "error: .reconciler/apply-journal.txt is tracked by git" in applied.output
    assert merged.note(merged.head()) is None


def test_skip_approval_is_recorded_without_the_policy_in_reconciler_yaml(merged: GitRepo) -> None:
    result = run(merged, "apply", "--yes", "--skip-approval")

    assert result.exit_code == 0, result.output
    note = merged.note(merged.head())
    assert note is not None
    assert note.endswith(
        "\napproval gate skipped (--skip-approval) by Reconciler CI <ci@pixel.example>"
    )


def test_skip_approval_is_recorded_when_there_is_nothing_to_apply(merged: GitRepo) -> None:
    assert run(merged, "apply", "--yes").exit_code == 0
    merged.commit("Nothing to apply")

    result = run(merged, "apply", "--yes", "--skip-approval")

    assert result.exit_code == 0, result.output
    assert "approval gate skipped (--skip-approval) by Reconciler CI" in (
        merged.note(merged.head()) or ""
    )


RELAY = Path(__file__).resolve().parents[2] / ".github/actions/reconciler/relay.py"


def relay_report(tmp_path: Path, stdout: str) -> tuple[str, str]:
    """The composite action's relay of ``apply --format json``: (log, job summary)."""
    (tmp_path / "out").write_text(stdout, encoding="utf-8")
    (tmp_path / "err").write_text("", encoding="utf-8")
    summary = tmp_path / "summary.md"
    files = ["--stdout", str(tmp_path / "out"), "--stderr", str(tmp_path / "err")]
    done = subprocess.run(
        [sys.executable, str(RELAY), *files, "--summary", "apply-report"],
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout, summary.read_text(encoding="utf-8")


def test_apply_json_is_one_document_when_there_is_nothing_to_apply(merged: GitRepo) -> None:
    assert run(merged, "apply", "--yes").exit_code == 0

    result = CliRunner().invoke(
        cli, ["--root", str(merged.root), "apply", "--yes", "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"format_version": 1, "ok": True, "results": []}


def test_the_apply_summary_shows_a_handover_held_back_at_plan_time(
    merged: GitRepo, tmp_path: Path
) -> None:
    # Bistro goes to a client with no account yet: preflight holds it back at plan time.
    merged.site("bistro-verde", "nina@bistro.example", collaborators={})
    merged.commit("Hand Bistro over to Nina")

    result = CliRunner().invoke(
        cli, ["--root", str(merged.root), "apply", "--yes", "--format", "json"]
    )
    log, summary = relay_report(tmp_path, result.stdout)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    held = [r for r in report["results"] if r["outcome"] == "skipped"]
    assert [(r["site"], r["action"], r["code"]) for r in held] == [
        ("bistro-verde", "transfer.start", "preflight.refused")
    ]
    assert summary.startswith("Applied: 1, held back: 1, failed: 0.\n")
    line = next(line for line in summary.splitlines() if line.startswith("- bistro-verde"))
    assert "the platform refuses the handover to nina" in line
    assert "sign up" in line
    assert "::warning title=reconciler apply held back a handover::bistro-verde: " in log
    block = (merged.note(merged.head()) or "").splitlines()[0]
    assert block.endswith("finished=true failed=0 held=1")  # not a base: it comes back
