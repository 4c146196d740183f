"""Review equals effect, end to end (issue 13's "done when"): a real git repository, the
sandbox served on 127.0.0.1 as the platform (write and read-scope tokens), and the fake
GitHub API. A pull request touching ACME while Old Shop has a pending change shows
ACME's plan and lists Old Shop as not applied; its merge applies ACME only, once the
approval gate passes; each of the five bypasses is refused with a reason and a next
step; a squash-merged, approved handover goes through; the read token cannot write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fake_github import FakeGitHub, pull, review
from git_support import GitRepo, site_yaml

from reconciler.cli import cli
from reconciler.sandbox.seed import Seed, apply_seed
from reconciler.sandbox.server import ThreadedSandbox

ANNA = "anna@acme-bakery.example"
MARCO = "marco@bistro-verde.example"
STUDIO = "studio@pixel.example"


def platform_site(site_id: str, collaborators: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "id": site_id,
        "name": site_id.title(),
        "owner": STUDIO,
        "billing_contact": STUDIO,
        "package": "free",
        "collaborators": collaborators or {},
    }


@pytest.fixture
def flow(tmp_path: Path, github: FakeGitHub) -> Iterator[tuple[GitRepo, ThreadedSandbox]]:
    """main manages ACME, Old Shop (Tom is to lose access: pending) and Bistro Verde;
    carol's branch `handover` first shares ACME with Tom, then hands it over to Anna."""
    with ThreadedSandbox(tmp_path / "platform.db") as platform:
        seed = {
            "accounts": [
                {
                    "email": STUDIO,
                    "kind": "expert",
                    "token": "studio-token",
                    "read_token": "studio-read",
                },
                {"email": ANNA, "kind": "customer"},
                {"email": MARCO, "kind": "customer"},
            ],
            "sites": [
                platform_site("acme-bakery"),
                platform_site("bistro-verde"),
                platform_site("old-shop", {"tom@freelance.example": "editor"}),
            ],
        }
        apply_seed(platform.store, Seed.model_validate(seed))
        repo = GitRepo(tmp_path / "repo")
        config = (
            f"expert: {STUDIO}\nplatform:\n  url: {platform.url}\n  token_env: PLATFORM_TOKEN\n"
        )
        repo.write("reconciler.yaml", config)
        for site in ("acme-bakery", "bistro-verde", "old-shop"):
            repo.site(site, collaborators={})
        repo.commit("Manage three sites")
        repo.checkout("-b", "handover")
        repo.site("acme-bakery", collaborators={"tom@freelance.example": "viewer"})
        repo.commit("Tom previews ACME", author="carol")
        repo.site("acme-bakery", ANNA, collaborators={"tom@freelance.example": "viewer"})
        repo.commit("Hand ACME over to Anna", author="carol")
        github.permissions = {"bob": "write", "dave": "read", "renovate[bot]": "write"}
        yield repo, platform


def run(repo: GitRepo, *args: str, token: str = "studio-token", **env: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["--root", str(repo.root), *args],
        env={"NO_COLOR": "1", "PLATFORM_TOKEN": token, **env},
    )


def pending(repo: GitRepo) -> list[tuple[str, str]]:
    plan = json.loads(run(repo, "plan", "--format", "json").stdout)
    return [(c["site"], c["action"]) for c in plan["changes"]]


def test_review_equals_effect(flow: tuple[GitRepo, ThreadedSandbox], github: FakeGitHub) -> None:
    repo, _ = flow
    before, handover = repo.git("rev-parse", "HEAD~1"), repo.head()

    # The pull request's plan, with the read-scope token: ACME, then Old Shop not applied.
    comment = run(
        repo, "plan", "--changed-since", "main", "--format", "markdown", token="studio-read"
    )
    assert comment.exit_code == 0, comment.output
    assert "HANDOVER to anna@acme-bakery.example" in comment.stdout
    assert "#### Not applied by this merge (1)" in comment.stdout
    assert "- **old-shop** `collaborator.remove`" in comment.stdout
    assert comment.stdout.index("HANDOVER") < comment.stdout.index("Not applied")

    # The read token can plan but not write: exit 1, the platform unchanged.
    everything = pending(repo)
    refused = run(repo, "apply", "--yes", "--allow-dirty", token="studio-read")
    assert refused.exit_code == 1
    assert "failed (403): This token has the read scope" in refused.output
    assert "Apply: 0 done" in refused.output
    assert pending(repo) == everything

    # The merge, applied with the gate: each bypass holds the handover back.
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12 from pixel/handover")
    apply = ("apply", "--yes", "--require-approval", "--changed-since", "HEAD^1")
    bypasses = {
        "dave has read permission on pixel/sites, not write": (
            [pull(12, "carol")],
            [review("dave", "APPROVED", handover)],
        ),
        "pull request #12 was never merged": (
            [pull(12, "carol", merged=False)],
            [review("bob", "APPROVED", handover)],
        ),
        "pull request #12 was merged into staging, not into the default branch main": (
            [pull(12, "carol", base="staging")],
            [review("bob", "APPROVED", handover)],
        ),
        f"bob approved {before[:12]}, a commit without the change ({handover[:12]})": (
            [pull(12, "carol")],
            [review("bob", "APPROVED", before)],
        ),
        "renovate[bot] is a bot": (
            [pull(12, "carol")],
            [review("renovate[bot]", "APPROVED", handover, bot=True)],
        ),
    }
    for reason, (pulls, reviews) in bypasses.items():
        github.pulls[handover], github.reviews[12] = pulls, reviews
        result = run(repo, *apply, **github.environ)
        assert result.exit_code == 0, result.output
        assert "skipped acme-bakery: transfer.start" in result.output
        assert reason in result.output, reason
        assert "Next: have the pull request approved by someone other than its author" in (
            result.output
        )
    # Tom's access to ACME (also in the pull request) went ahead; Old Shop was not touched.
    assert pending(repo) == [("acme-bakery", "transfer.start"), ("old-shop", "collaborator.remove")]

    # The same handover, approved properly, goes through; Old Shop still waits.
    github.pulls[handover], github.reviews[12] = (
        [pull(12, "carol")],
        [review("bob", "APPROVED", handover)],
    )
    approved = run(repo, *apply, **github.environ)
    assert approved.exit_code == 0, approved.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        approved.output
    )
    assert pending(repo) == [("old-shop", "collaborator.remove")]


def test_a_squash_merged_approved_handover_goes_through(
    flow: tuple[GitRepo, ThreadedSandbox], github: FakeGitHub
) -> None:
    repo, _ = flow
    repo.checkout("main")
    repo.site("bistro-verde", MARCO, collaborators={})
    squashed = repo.commit("Hand Bistro Verde over to Marco (#21)")
    reviewed = "ab" * 20  # the pull request's branch head, not in this clone
    github.pulls[squashed] = [pull(21, "carol")]
    github.reviews[21] = [review("bob", "APPROVED", reviewed)]
    github.files[("sites/bistro-verde.yaml", reviewed)] = site_yaml(
        "bistro-verde", MARCO, collaborators={}
    )

    result = run(
        repo, "apply", "--yes", "--require-approval", "--changed-since", "HEAD^1", **github.environ
    )

    assert result.exit_code == 0, result.output
    assert "done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example" in (
        result.output
    )
    assert ("old-shop", "collaborator.remove") in pending(repo)


def test_a_re_ask_is_reviewed_like_a_new_handover(
    flow: tuple[GitRepo, ThreadedSandbox], github: FakeGitHub
) -> None:
    """Anna declines the approved handover; asking her again goes through the gate: a
    re-ask pushed straight to main, or approved only by its author, is held back."""
    repo, platform = flow
    handover = repo.head()
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12 from pixel/handover")
    github.pulls[handover] = [pull(12, "carol")]
    github.reviews[12] = [review("bob", "APPROVED", handover)]
    apply = ("apply", "--yes", "--require-approval", "--changed-since", "HEAD^1")
    assert "transfer.start HANDOVER" in run(repo, *apply, **github.environ).output
    declined = platform.store.respond_to_transfer("acme-bakery", accept=False)
    assert ("acme-bakery", "transfer.start") not in pending(repo)
    plain = (repo.root / "sites/acme-bakery.yaml").read_text()
    asked = plain + f"ask_again_after: {declined.id}\n"

    # Pushed straight to main: the handover is held back, with what to do.
    repo.write("sites/acme-bakery.yaml", asked)
    pushed = repo.commit("Ask Anna again", author="bob")
    result = run(repo, *apply, **github.environ)
    assert result.exit_code == 0, result.output
    assert "skipped acme-bakery: transfer.start" in result.output
    assert f"commit {pushed[:12]} is in no pull request on GitHub (pushed directly?)" in (
        result.output
    )
    assert "edits the `ask_again_after:` line of sites/acme-bakery.yaml" in result.output
    assert ("acme-bakery", "transfer.start") in pending(repo)

    # Undone, then asked again in a pull request approved by its author only: held back.
    repo.write("sites/acme-bakery.yaml", plain)
    repo.commit("Revert: ask Anna in a pull request", author="bob")
    repo.checkout("-b", "ask-again")
    repo.write("sites/acme-bakery.yaml", asked)
    reasked = repo.commit("Ask Anna again, reviewed", author="carol")
    repo.checkout("main")
    repo.merge("ask-again", "Merge pull request #15 from pixel/ask-again")
    github.pulls[reasked] = [pull(15, "carol")]
    github.reviews[15] = [review("carol", "APPROVED", reasked)]
    result = run(repo, *apply, **github.environ)
    assert "skipped acme-bakery: transfer.start" in result.output
    assert "pull request #15 has 0 of the 1 approval it needs (carol is the pull " in (
        result.output
    )

    # Approved by bob: Anna is asked again.
    github.reviews[15].append(review("bob", "APPROVED", reasked))
    result = run(repo, *apply, **github.environ)
    assert result.exit_code == 0, result.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        result.output
    )


def test_an_older_github_release_and_a_deleted_fork_approve_a_reviewed_handover(
    flow: tuple[GitRepo, ThreadedSandbox], github: FakeGitHub
) -> None:
    """GitHub Enterprise Server of an older release (no label `archived_by`, no team
    `type`, no `role_name`), and the fork of the pull request deleted after the merge."""
    repo, _ = flow
    handover = repo.head()
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12 from carol/handover")
    github.release = "older"
    github.permissions["bob"] = "maintain"
    github.pulls[handover] = [pull(12, "carol", fork_deleted=True)]
    github.reviews[12] = [review("bob", "APPROVED", handover)]

    result = run(
        repo, "apply", "--yes", "--require-approval", "--changed-since", "HEAD^1", **github.environ
    )

    assert result.exit_code == 0, result.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        result.output
    )


def test_a_handover_held_back_unapproved_is_applied_by_a_later_merge_once_approved(
    flow: tuple[GitRepo, ThreadedSandbox], github: FakeGitHub
) -> None:
    """Nothing is left behind (DESIGN.md section 5): the gate holds the merged handover
    back, so its apply is not a base; the pull request that approves it after the fact
    changes only ACME's owner line, and its merge's `--since-last-apply` starts it."""
    repo, _ = flow
    handover = repo.head()
    repo.checkout("main")
    gated = ("apply", "--yes", "--require-approval", "--since-last-apply")
    first = run(repo, "apply", "--yes", "--require-approval", **github.environ)
    assert first.exit_code == 0, first.output
    repo.merge("handover", "Merge pull request #12 from pixel/handover")
    github.pulls[handover] = [pull(12, "carol")]
    github.reviews[12] = [review("carol", "APPROVED", handover)]  # by its own author

    held = run(repo, *gated, **github.environ)

    assert held.exit_code == 0, held.output
    assert "skipped acme-bakery: transfer.start" in held.output
    assert "held=1" in (repo.note(repo.head()) or "").splitlines()[0]
    repo.checkout("-b", "approve")
    text = site_yaml("acme-bakery", ANNA, collaborators={"tom@freelance.example": "viewer"})
    repo.write("sites/acme-bakery.yaml", text.replace(f"owner: {ANNA}", f"owner: {ANNA}  # ok"))
    reviewed = repo.commit("Handover of ACME reviewed")
    repo.checkout("main")
    repo.merge("approve", "Merge pull request #13 from pixel/approve")
    github.pulls[reviewed] = [pull(13, "alice")]
    github.reviews[13] = [review("bob", "APPROVED", reviewed)]

    approved = run(repo, *gated, **github.environ)

    assert approved.exit_code == 0, approved.output
    assert "done    acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example" in (
        approved.output
    )
    block = (repo.note(repo.head()) or "").splitlines()[0]
    assert block.endswith("scope=since-last-apply finished=true failed=0 held=0")
