"""Which run applied what to a site, from the apply notes (refs/notes/reconciler)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from git_support import GitRepo

from reconciler.cli import cli
from reconciler.review.gitrepo import GitRepository
from reconciler.review.history import AppliedRun, runs_about

NOTE = """reconciler apply at 2026-11-27T04:02:49Z
plan sha256:2d51
Apply: 2 done, 0 failed, 0 skipped.
done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example (stays)
done    bistro-verdelicious: collaborator.add give tom@freelance.example viewer access

reconciler apply at 2026-11-28T09:00:00Z
plan sha256:99aa
Apply: 0 done, 1 failed, 0 skipped.
FAILED  acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example (the expert leaves) - 422
"""


def test_only_the_runs_and_lines_about_the_site_are_kept() -> None:
    runs = runs_about("bistro-verde", [("c0ffee", NOTE)])

    assert runs == [
        AppliedRun(
            sha="c0ffee",
            when="2026-11-27T04:02:49Z",
            lines=(
                "done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example "
                "(stays)",
            ),
        )
    ]
    assert [run.when for run in runs_about("acme-bakery", [("c0ffee", NOTE)])] == [
        "2026-11-28T09:00:00Z"
    ]
    assert runs_about("nope", [("c0ffee", NOTE)]) == []


def test_the_cli_shows_the_runs_that_applied_changes_to_the_site(repo: GitRepo) -> None:
    with GitRepository.open(repo.root) as opened:
        head = opened.head_sha()
        assert head is not None
        opened.add_note(head, NOTE.split("\n\n")[0])

    result = CliRunner().invoke(cli, ["--root", str(repo.root), "history", "bistro-verde"])
    as_json = CliRunner().invoke(
        cli, ["--root", str(repo.root), "history", "bistro-verde", "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-3:] == [
        "Applied (git notes, refs/notes/reconciler):",
        f"2026-11-27T04:02:49Z  on {head[:10]}",
        "    done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example (stays)",
    ]
    assert json.loads(as_json.output)["applied"] == [
        {
            "sha": head,
            "when": "2026-11-27T04:02:49Z",
            "lines": [
                "done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example "
                "(stays)"
            ],
        }
    ]


def test_history_without_the_platform_still_shows_git_and_says_why(repo: GitRepo) -> None:
    repo.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\n"
        "platform:\n  url: http://127.0.0.1:9\n  token_env: HISTORY_TOKEN\n",
    )

    result = CliRunner().invoke(
        cli, ["--root", str(repo.root), "history", "bistro-verde"], env={"HISTORY_TOKEN": "t"}
    )

    assert result.exit_code == 0, result.output
    assert "    - file created: owner expert" in result.output
    lines = result.output.splitlines()
    assert lines[-2] == "Transfers on the platform:"
    assert lines[-1].startswith("    not shown: ")
    assert "127.0.0.1:9" in lines[-1]
