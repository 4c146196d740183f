"""The approval gate (DESIGN.md section 8), against a real git repository and the fake
GitHub over HTTP: merged into the default branch, each reviewer's latest verdict, not
the author, not a bot, write access, on a commit that contained the change (squash
merges included), `policy.approvals`, rate limits, and what to do when refused."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_github import TOKEN, FakeGitHub, FakePull, FakeReview, pull, review
from git_support import GitRepo, site_yaml

from reconciler.errors import ConfigError
from reconciler.model import Package, Role
from reconciler.reconcile.apply import Applier, Outcome
from reconciler.reconcile.changes import (
    Action,
    BillingContactSet,
    Change,
    CollaboratorAdd,
    CollaboratorRemove,
    PackagePurchase,
    TransferCancel,
    TransferStart,
)
from reconciler.reconcile.plan import Plan
from reconciler.review.approval import ApprovalGate
from reconciler.review.github import GitHubClient
from reconciler.review.gitrepo import GitRepository

ANNA = "anna@acme-bakery.example"
NEXT = ". Next: "


def handover(site: str = "acme-bakery", to: str = ANNA) -> Change:
    return TransferStart(
        site=site,
        to=to,
        stay_as_collaborator=True,
        billing_contact_before="studio@pixel.example",
        package=Package.FREE,
        package_paid_until=None,
    )


def reason(message: str | None) -> str | None:
    """The refusal without its next step (asserted once, in its own test)."""
    return None if message is None else message.split(NEXT)[0]


def gate_of(repo: GitRepo, github: FakeGitHub, change: Change, **options: Any) -> str | None:
    with (
        GitHubClient.from_environ(github.environ, max_wait=5) as client,
        GitRepository.open(repo.root) as repository,
    ):
        return ApprovalGate(client, repository, **options).gate(change)


@dataclass
class World:
    repo: GitRepo
    github: FakeGitHub
    handover_sha: str
    before_sha: str  # a commit of the same branch, before the handover

    def gate(self, change: Change | None = None, **options: Any) -> str | None:
        return gate_of(self.repo, self.github, change or handover(), **options)


@pytest.fixture
def world(repo: GitRepo, github: FakeGitHub) -> World:
    """carol's pull request #12 first shares ACME with Tom, then hands ACME over to Anna;
    alice merges it into main (a merge commit). bob has write access."""
    repo.checkout("-b", "handover")
    repo.site("acme-bakery", collaborators={"tom@freelance.example": "editor"})
    before = repo.commit("Tom edits ACME", author="carol")
    repo.site("acme-bakery", ANNA, collaborators={"studio@pixel.example": "editor"})
    sha = repo.commit("Hand ACME over to Anna", author="carol")
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12 from pixel/handover")
    github.pulls[sha] = [pull(12, "carol")]
    github.permissions = {"bob": "write", "carol": "write", "alice": "admin"}
    return World(repo, github, sha, before)


def no_approval(why: str, need: str = "1 approval") -> str:
    return f"handover not approved: pull request #12 has 0 of the {need} it needs ({why})"


def test_approved_by_someone_else_with_write_access(world: World) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert world.gate() is None
    assert world.github.requests == [
        f"/repos/pixel/sites/commits/{world.handover_sha}/pulls",
        "/repos/pixel/sites",
        "/repos/pixel/sites/pulls/12",
        "/repos/pixel/sites/pulls/12/reviews",
        "/repos/pixel/sites/collaborators/bob/permission",
    ]


def test_a_refusal_says_why_and_what_to_do_next(world: World) -> None:
    world.github.reviews[12] = [review("carol", "APPROVED", world.handover_sha)]

    message = world.gate()

    assert message == (
        no_approval("carol is the pull request's author") + ". Next: have the pull request "
        "approved by someone other than its author with write access (on a commit that "
        "contains the change) and merged into the default branch; if it is already merged, "
        "approve the handover after the fact: open a pull request that edits the `owner:` "
        "line of sites/acme-bakery.yaml (a comment such as `# handover reviewed` is enough), "
        "have it approved and merge it; the next apply then goes ahead. To apply without "
        "approval: `reconciler apply --skip-approval` (recorded in the git note)"
    )


@pytest.mark.parametrize(
    ("reviews", "expected"),
    [
        ([], no_approval("").replace(" ()", "")),
        ([("bob", "COMMENTED")], no_approval("").replace(" ()", "")),
        ([("bob", "APPROVED"), ("bob", "COMMENTED")], None),
        ([("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")], None),
        ([("bob", "APPROVED"), ("bob", "DISMISSED")], no_approval("").replace(" ()", "")),
        ([("bob", "APPROVED"), ("bob", "PENDING")], None),
        (
            [("bob", "APPROVED"), ("bob", "CHANGES_REQUESTED")],
            "handover not approved: pull request #12 has changes requested by bob",
        ),
        (
            [("alice", "CHANGES_REQUESTED"), ("bob", "APPROVED")],
            "handover not approved: pull request #12 has changes requested by alice",
        ),
        ([("carol", "CHANGES_REQUESTED"), ("bob", "APPROVED")], None),
        ([("BOB", "APPROVED"), ("bob", "DISMISSED")], no_approval("").replace(" ()", "")),
    ],
    ids=[
        "no-reviews",
        "comment-only",
        "comment-after-approval-keeps-it",
        "approval-after-changes-requested",
        "dismissed-approval",
        "pending-review-ignored",
        "changes-requested-after-approval",
        "changes-requested-by-another-writer",
        "author-own-review-ignored",
        "logins-compare-case-insensitively",
    ],
)
def test_the_latest_verdict_of_each_reviewer_counts(
    world: World, reviews: list[tuple[str, str]], expected: str | None
) -> None:
    world.github.reviews[12] = [review(who, state, world.handover_sha) for who, state in reviews]

    assert reason(world.gate()) == expected


# --- the five bypasses of issue 13, each refused with its reason ------------------------


@pytest.mark.parametrize("role", ["read", "triage", None])
def test_an_approver_without_write_access_does_not_count(world: World, role: str | None) -> None:
    if role is not None:
        world.github.permissions["dave"] = role
    world.github.reviews[12] = [review("dave", "APPROVED", world.handover_sha)]

    assert reason(world.gate()) == no_approval(
        f"dave has {role or 'none'} permission on pixel/sites, not write"
    )


@pytest.mark.parametrize("role", ["maintain", "admin"])
def test_maintain_and_admin_count_like_write(world: World, role: str) -> None:
    world.github.permissions["dave"] = role
    world.github.reviews[12] = [review("dave", "APPROVED", world.handover_sha)]

    assert world.gate() is None


def test_a_pull_request_never_merged_approves_nothing(world: World) -> None:
    world.github.pulls[world.handover_sha] = [pull(12, "carol", merged=False)]
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert reason(world.gate()) == "handover not approved: pull request #12 was never merged"


def test_a_pull_request_merged_into_another_branch_approves_nothing(world: World) -> None:
    world.github.pulls[world.handover_sha] = [pull(12, "carol", base="staging")]
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert reason(world.gate()) == (
        "handover not approved: pull request #12 was merged into staging, not into the "
        "default branch main"
    )


def test_an_approval_of_a_commit_before_the_handover_does_not_count(world: World) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED", world.before_sha)]

    assert reason(world.gate()) == no_approval(
        f"bob approved {world.before_sha[:12]}, a commit without the change "
        f"({world.handover_sha[:12]})"
    )


def test_a_bot_approval_does_not_count(world: World) -> None:
    world.github.permissions["renovate[bot]"] = "write"
    world.github.reviews[12] = [review("renovate[bot]", "APPROVED", world.handover_sha, bot=True)]

    assert reason(world.gate()) == no_approval("renovate[bot] is a bot")


# --- squash merges, policy.approvals, after the fact -----------------------------------


@pytest.fixture
def squashed(repo: GitRepo, github: FakeGitHub) -> tuple[GitRepo, FakeGitHub, str]:
    """Pull request #21 squash-merged: main has one new commit; the reviewed commits of
    the branch are not in this clone."""
    repo.site("acme-bakery", ANNA, collaborators={})
    sha = repo.commit("Hand ACME over to Anna (#21)", author="alice")
    github.pulls[sha] = [pull(21, "carol")]
    github.permissions = {"bob": "write"}
    return repo, github, sha


def test_a_squash_merged_approved_handover_goes_through(
    squashed: tuple[GitRepo, FakeGitHub, str],
) -> None:
    repo, github, _ = squashed
    reviewed = "f" * 40  # the branch's head, gone with the branch
    github.files[("sites/acme-bakery.yaml", reviewed)] = site_yaml(
        "acme-bakery", ANNA, collaborators={}
    )
    github.reviews[21] = [review("bob", "APPROVED", reviewed)]

    assert gate_of(repo, github, handover()) is None
    assert "/repos/pixel/sites/contents/sites/acme-bakery.yaml" in github.requests


def test_a_squash_merge_approved_before_the_handover_was_added_is_refused(
    squashed: tuple[GitRepo, FakeGitHub, str],
) -> None:
    repo, github, sha = squashed
    reviewed = "e" * 40
    github.files[("sites/acme-bakery.yaml", reviewed)] = site_yaml("acme-bakery")  # expert
    github.reviews[21] = [review("bob", "APPROVED", reviewed)]

    assert reason(gate_of(repo, github, handover())) == (
        "handover not approved: pull request #21 has 0 of the 1 approval it needs (bob "
        f"approved {reviewed[:12]}, a commit without the change ({sha[:12]}))"
    )


def test_policy_approvals_asks_for_more(world: World) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert reason(world.gate(approvals=2)) == (
        "handover not approved: pull request #12 has 1 of the 2 approvals it needs"
    )
    world.github.reviews[12].append(review("alice", "APPROVED", world.handover_sha))
    assert world.gate(approvals=2) is None


def test_a_later_approved_pull_request_that_shows_the_owner_line_approves_it(
    world: World,
) -> None:
    world.github.reviews[12] = []  # the handover was merged without approval
    text = (world.repo.root / "sites/acme-bakery.yaml").read_text()
    world.repo.write(
        "sites/acme-bakery.yaml",
        text.replace(f"owner: {ANNA}", f"owner: {ANNA}  # handover reviewed in #14"),
    )
    later = world.repo.commit("Approve the ACME handover", author="carol")
    world.github.pulls[later] = [pull(14, "carol")]
    world.github.reviews[14] = [review("bob", "APPROVED", later)]

    assert world.gate() is None


def test_a_later_approved_pull_request_that_does_not_show_the_handover_approves_nothing(
    world: World,
) -> None:
    world.github.reviews[12] = []
    world.repo.site("acme-bakery", ANNA, collaborators={"studio@pixel.example": "viewer"})
    later = world.repo.commit("Studio only views ACME", author="bob")
    world.github.pulls[later] = [pull(14, "bob")]
    world.github.reviews[14] = [review("alice", "APPROVED", later)]

    assert reason(world.gate()) == no_approval("").replace(" ()", "")
    assert world.github.requests[0] == f"/repos/pixel/sites/commits/{world.handover_sha}/pulls"


# --- what is gated, GitHub failing, caching --------------------------------------------


def test_no_pull_request_found(world: World) -> None:
    world.github.pulls.clear()

    assert reason(world.gate()) == (
        f"handover not approved: commit {world.handover_sha[:12]} is in no pull request on "
        "GitHub (pushed directly?)"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (502, "GitHub answered 502 Bad Gateway for GET /repos/pixel/sites/commits/"),
        (401, "GitHub answered 401 Unauthorized for GET /repos/pixel/sites/commits/"),
    ],
)
def test_github_failing_holds_the_handover_back_with_the_reason(
    world: World, status: int, expected: str
) -> None:
    world.github.fail_with = status

    why = world.gate()

    assert why is not None
    assert why.startswith("handover not approved: could not check the approval on GitHub: ")
    assert expected in why
    assert TOKEN not in why


def test_a_rate_limit_is_waited_out_not_taken_for_a_refusal(world: World) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]
    world.github.rate_limited = [(429, {"Retry-After": "1"}), (403, {"Retry-After": "1"})]

    assert world.gate() is None


def test_a_wrong_token_is_never_shown(repo: GitRepo, github: FakeGitHub) -> None:
    environ = {**github.environ, "GITHUB_TOKEN": "ghs_not-the-right-one"}
    with GitHubClient.from_environ(environ) as client, GitRepository.open(repo.root) as opened:
        why = ApprovalGate(client, opened).gate(handover())

    assert why is not None
    assert "check GITHUB_TOKEN: it is missing, expired or revoked" in why
    assert "ghs_not-the-right-one" not in why


def test_other_changes_pass_without_asking_github(world: World) -> None:
    site = "acme-bakery"
    others: list[Change] = [
        CollaboratorAdd(site=site, email="tom@freelance.example", role=Role.VIEWER),
        CollaboratorRemove(site=site, email="tom@freelance.example", previous_role=Role.EDITOR),
        BillingContactSet(site=site, email="studio@pixel.example", previous=None),
        TransferCancel(site=site, transfer_id="t-1", to=ANNA, reason="no longer asked for"),
        PackagePurchase(site=site, package=Package.PREMIUM, previous=Package.FREE),
    ]
    for change in others:
        assert world.gate(change) is None
    assert world.github.requests == []


def test_policy_require_approval_gates_the_actions_it_names(world: World) -> None:
    purchase = PackagePurchase(site="acme-bakery", package=Package.PREMIUM, previous=Package.FREE)

    why = world.gate(purchase, actions=("package.purchase",))

    assert why is not None
    assert why.startswith("package.purchase not approved: pull request #12 has 0 of the")
    assert world.gate(handover(), actions=("package.purchase",)) is None


def test_handovers_of_one_pull_request_ask_github_once(repo: GitRepo, github: FakeGitHub) -> None:
    repo.site("acme-bakery", ANNA)
    repo.site("bistro-verde", "marco@bistro-verde.example")
    sha = repo.commit("Hand over ACME and Bistro Verde", author="carol")
    github.pulls[sha] = [pull(21, "carol")]
    github.reviews[21] = [review("bob", "APPROVED", sha)]
    github.permissions = {"bob": "write"}
    with (
        GitHubClient.from_environ(github.environ) as client,
        GitRepository.open(repo.root) as opened,
    ):
        gate = ApprovalGate(client, opened)
        verdicts = [gate.gate(handover()) for _ in range(3)]
        verdicts.append(gate.gate(handover("bistro-verde", "marco@bistro-verde.example")))

    assert verdicts == [None] * 4
    assert len(github.requests) == 5  # repository, commit's pulls, pull, reviews, permission


def test_a_site_file_never_committed(world: World) -> None:
    world.repo.site("harbor-yoga", "lena@harbor-yoga.example")

    assert reason(world.gate(handover("harbor-yoga", "lena@harbor-yoga.example"))) == (
        "handover not approved: no commit reachable from HEAD adds or changes "
        "sites/harbor-yoga.yaml, so no pull request can have approved it"
    )


@dataclass(frozen=True)
class _Written:
    version: int


class _Writer:
    """Records the writes apply makes; every write succeeds."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def write(site_id: str, *args: Any, **kwargs: Any) -> _Written:
            self.calls.append(f"{name} {site_id}")
            return _Written(2)

        return write


def test_apply_skips_an_unapproved_handover_and_does_the_rest(world: World) -> None:
    world.github.reviews[12] = [review("carol", "APPROVED", world.handover_sha)]
    grant = CollaboratorAdd(site="acme-bakery", email="studio@pixel.example", role=Role.EDITOR)
    plan = Plan(
        fingerprint="f",
        expert="studio@pixel.example",
        scope=("acme-bakery",),
        versions={"acme-bakery": 1},
        changes=(grant, handover()),
    )
    writer = _Writer()
    with (
        GitHubClient.from_environ(world.github.environ) as client,
        GitRepository.open(world.repo.root) as repository,
    ):
        gate = ApprovalGate(client, repository).gate
        report = Applier(writer, gate=gate).apply(plan)

    assert [(r.change.action, r.outcome, reason(r.reason)) for r in report.results] == [
        (Action.COLLABORATOR_ADD, Outcome.DONE, None),
        (Action.TRANSFER_START, Outcome.SKIPPED, no_approval("carol is the pull request's author")),
    ]
    assert writer.calls == ["put_collaborator acme-bakery"]
    assert report.ok


# --- a handover to a people.yaml handle ------------------------------------------------


@pytest.fixture
def handle_world(repo: GitRepo, github: FakeGitHub) -> tuple[GitRepo, FakeGitHub]:
    """people.yaml pushed directly in a bootstrap commit; carol's approved pull request
    #12 then hands ACME over to the handle `anna`."""
    repo.write("people.yaml", f"anna: {{email: {ANNA}}}\n")
    repo.commit("Bootstrap people.yaml")  # no pull request
    repo.checkout("-b", "handover")
    repo.site("acme-bakery", "anna", collaborators={})
    handed = repo.commit("Hand ACME over to anna", author="carol")
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12")
    github.pulls[handed] = [pull(12, "carol")]
    github.reviews[12] = [review("bob", "APPROVED", handed)]
    github.permissions = {"bob": "write"}
    return repo, github


def test_an_address_set_before_the_reviewed_handover_needs_nothing_more(
    handle_world: tuple[GitRepo, FakeGitHub],
) -> None:
    repo, github = handle_world
    repo.write("people.yaml", f"anna: {{email: {ANNA}}}\nzed: {{email: zed@x.example}}\n")
    repo.commit("Add zed", author="bob")  # pushed directly; anna's address is unchanged

    assert gate_of(repo, github, handover()) is None


def test_a_handle_pointed_elsewhere_after_the_review_needs_its_own_review(
    handle_world: tuple[GitRepo, FakeGitHub],
) -> None:
    """people.yaml says who a handle is: an unreviewed edit could redirect a handover,
    even when a later approved pull request touches people.yaml for something else."""
    repo, github = handle_world
    mallory = "mallory@elsewhere.example"
    repo.write("people.yaml", f"anna: {{email: {mallory}}}\n")
    pushed = repo.commit("Fix Anna's address", author="bob")  # pushed straight to main
    repo.write("people.yaml", f"anna: {{email: {mallory}}}\nzed: {{email: zed@x.example}}\n")
    later = repo.commit("Add zed", author="carol")
    github.pulls[later] = [pull(13, "carol")]
    github.reviews[13] = [review("bob", "APPROVED", later)]

    assert reason(gate_of(repo, github, handover(to=mallory))) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?) (the people.yaml change that says who the new owner is)"
    )


# --- asking again after a decline: approved like a new handover (DESIGN section 8) ------


def ask_again(repo: GitRepo, transfer_id: str = "tr_1", site: str = "acme-bakery") -> None:
    """Add (or change) the site file's ``ask_again_after:`` line."""
    path = f"sites/{site}.yaml"
    lines = (repo.root / path).read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("ask_again_after:")]
    repo.write(path, "".join(kept) + f"ask_again_after: {transfer_id}\n")


@pytest.fixture
def declined(world: World) -> World:
    """bob approved #12's handover; it was applied, and Anna declined it (tr_1)."""
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]
    assert world.gate() is None
    world.github.requests.clear()
    return world


def re_ask_pull_request(world: World, number: int = 15, transfer_id: str = "tr_1") -> str:
    """carol's pull request ``number`` adds ``ask_again_after``; merged into main."""
    world.repo.checkout("-b", f"ask-again-{number}")
    ask_again(world.repo, transfer_id)
    sha = world.repo.commit("Ask Anna again", author="carol")
    world.repo.checkout("main")
    world.repo.merge(f"ask-again-{number}", f"Merge pull request #{number}")
    world.github.pulls[sha] = [pull(number, "carol")]
    return sha


def test_a_re_ask_pushed_straight_to_main_is_refused(declined: World) -> None:
    ask_again(declined.repo)
    pushed = declined.repo.commit("Ask Anna again", author="bob")

    assert reason(declined.gate()) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?)"
    )


def test_a_re_ask_approved_only_by_its_author_is_refused(declined: World) -> None:
    sha = re_ask_pull_request(declined)
    declined.github.reviews[15] = [review("carol", "APPROVED", sha)]

    assert reason(declined.gate()) == (
        "handover not approved: pull request #15 has 0 of the 1 approval it needs "
        "(carol is the pull request's author)"
    )


def test_a_re_ask_approved_by_a_writer_goes_through(declined: World) -> None:
    sha = re_ask_pull_request(declined)
    declined.github.reviews[15] = [review("bob", "APPROVED", sha)]

    assert declined.gate() is None
    assert declined.github.requests[0] == f"/repos/pixel/sites/commits/{sha}/pulls"


def test_a_re_ask_approved_on_a_commit_before_it_is_refused(declined: World) -> None:
    sha = re_ask_pull_request(declined)
    declined.github.reviews[15] = [review("bob", "APPROVED", declined.handover_sha)]

    assert reason(declined.gate()) == (
        "handover not approved: pull request #15 has 0 of the 1 approval it needs (bob "
        f"approved {declined.handover_sha[:12]}, a commit without the change ({sha[:12]}))"
    )


def test_asking_again_after_another_transfer_is_asking_again(declined: World) -> None:
    """tr_1 was asked again in an approved pull request; a direct push that points the
    line at tr_2 (Anna declined again) is a new re-ask, and unreviewed."""
    sha = re_ask_pull_request(declined)
    declined.github.reviews[15] = [review("bob", "APPROVED", sha)]
    ask_again(declined.repo, "tr_2")
    pushed = declined.repo.commit("Ask Anna a third time", author="bob")

    assert reason(declined.gate()) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?)"
    )


def test_a_re_ask_refused_says_which_line_to_approve_after_the_fact(declined: World) -> None:
    ask_again(declined.repo)
    declined.repo.commit("Ask Anna again", author="bob")

    message = declined.gate()

    assert message is not None
    assert (
        "if it is already merged, approve the handover after the fact: open a pull request "
        "that edits the `ask_again_after:` line of sites/acme-bakery.yaml (a comment such "
        "as `# handover reviewed` is enough), have it approved and merge it"
    ) in message


def test_a_re_ask_approved_after_the_fact_on_its_own_line(declined: World) -> None:
    ask_again(declined.repo)
    declined.repo.commit("Ask Anna again", author="bob")  # pushed straight to main
    ask_again(declined.repo, "tr_1  # asked again, reviewed in #16")
    later = declined.repo.commit("Review the re-ask", author="carol")
    declined.github.pulls[later] = [pull(16, "carol")]
    declined.github.reviews[16] = [review("bob", "APPROVED", later)]

    assert declined.gate() is None


def test_an_owner_line_edit_does_not_approve_a_re_ask_it_does_not_show(
    declined: World,
) -> None:
    ask_again(declined.repo)
    pushed = declined.repo.commit("Ask Anna again", author="bob")  # pushed straight to main
    text = (declined.repo.root / "sites/acme-bakery.yaml").read_text()
    declined.repo.write(
        "sites/acme-bakery.yaml", text.replace(f"owner: {ANNA}", f"owner: {ANNA}  # ok")
    )
    later = declined.repo.commit("Comment the owner", author="carol")
    declined.github.pulls[later] = [pull(16, "carol")]
    declined.github.reviews[16] = [review("bob", "APPROVED", later)]

    assert reason(declined.gate()) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?)"
    )


def test_a_squash_merged_re_ask_is_checked_on_the_reviewed_file(declined: World) -> None:
    ask_again(declined.repo)
    squashed = declined.repo.commit("Ask Anna again (#21)", author="alice")
    declined.github.pulls[squashed] = [pull(21, "carol")]
    with_line, without = "a" * 40, "b" * 40  # the branch's commits, not in this clone
    text = (declined.repo.root / "sites/acme-bakery.yaml").read_text()
    declined.github.files[("sites/acme-bakery.yaml", with_line)] = text
    declined.github.files[("sites/acme-bakery.yaml", without)] = text.replace(
        "ask_again_after: tr_1\n", ""
    )

    declined.github.reviews[21] = [review("bob", "APPROVED", without)]
    assert reason(declined.gate()) == (
        "handover not approved: pull request #21 has 0 of the 1 approval it needs (bob "
        f"approved {without[:12]}, a commit without the change ({squashed[:12]}))"
    )
    declined.github.reviews[21] = [review("bob", "APPROVED", with_line)]
    assert declined.gate() is None


def test_a_re_ask_to_a_handle_repointed_unreviewed_is_refused(
    handle_world: tuple[GitRepo, FakeGitHub],
) -> None:
    """The re-ask's review shows `ask_again_after:`, not people.yaml: a handle pointed
    elsewhere after the reviewed handover still needs its own review."""
    repo, github = handle_world
    mallory = "mallory@elsewhere.example"
    repo.write("people.yaml", f"anna: {{email: {mallory}}}\n")
    pushed = repo.commit("Fix Anna's address", author="bob")  # pushed straight to main
    repo.checkout("-b", "ask-again")
    ask_again(repo)
    sha = repo.commit("Ask Anna again", author="carol")
    repo.checkout("main")
    repo.merge("ask-again", "Merge pull request #15")
    github.pulls[sha] = [pull(15, "carol")]
    github.reviews[15] = [review("bob", "APPROVED", sha)]

    assert reason(gate_of(repo, github, handover(to=mallory))) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?) (the people.yaml change that says who the new owner is)"
    )


def test_a_re_ask_to_a_handle_with_a_reviewed_address_goes_through(
    handle_world: tuple[GitRepo, FakeGitHub],
) -> None:
    repo, github = handle_world
    repo.checkout("-b", "ask-again")
    ask_again(repo)
    sha = repo.commit("Ask Anna again", author="carol")
    repo.checkout("main")
    repo.merge("ask-again", "Merge pull request #15")
    github.pulls[sha] = [pull(15, "carol")]
    github.reviews[15] = [review("bob", "APPROVED", sha)]

    assert gate_of(repo, github, handover()) is None


def test_a_re_ask_pushed_to_main_stays_unreviewed_under_a_later_merge(declined: World) -> None:
    """An approved pull request merged over a re-ask pushed straight to main does not
    approve the re-ask: the merge brought the line in from main, which nobody reviewed."""
    repo = declined.repo
    repo.checkout("-b", "billing", "main")
    repo.write("README.md", "Who bills ACME\n")
    branch = repo.commit("Document billing", author="carol")
    repo.checkout("main")
    ask_again(repo)
    pushed = repo.commit("Ask Anna again", author="bob")  # pushed straight to main
    repo.merge("billing", "Merge pull request #17 from pixel/billing")
    declined.github.pulls[branch] = [pull(17, "carol")]
    declined.github.reviews[17] = [review("bob", "APPROVED", branch)]

    assert reason(declined.gate()) == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?)"
    )


def test_a_conflict_resolved_to_the_reviewed_owner_follows_the_reviewed_side(
    world: World,
) -> None:
    """main got another owner pushed straight to it after #12 branched; the merge kept
    #12's owner (and both sides' collaborators): the handover is #12's, and its approval
    counts, although main's commit is the newer one."""
    repo = world.repo
    repo.git("reset", "--quiet", "--hard", "HEAD^1")  # main before #12's merge
    repo.site(
        "acme-bakery", "marco@bistro-verde.example", collaborators={"tom@x.example": "viewer"}
    )
    repo.commit("Hand ACME over to Marco", author="bob")  # pushed straight to main
    repo.git("merge", "--no-ff", "--quiet", "handover", check=False)  # conflicts
    both = {"studio@pixel.example": "editor", "tom@x.example": "viewer"}
    repo.site("acme-bakery", ANNA, collaborators=both)
    repo.commit("Merge pull request #12 from pixel/handover")
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert world.gate() is None


def test_the_gate_in_a_shallow_clone_says_to_fetch_the_history(
    world: World, tmp_path: Path
) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{world.repo.root}", str(clone)],
        check=True,
        capture_output=True,
    )
    with (
        GitHubClient.from_environ(world.github.environ) as client,
        GitRepository.open(clone) as repository,
        pytest.raises(ConfigError, match="the clone has no history before HEAD"),
    ):
        ApprovalGate(client, repository).gate(handover())


# --- the decision fields only: older releases, deleted forks (DESIGN section 8) --------


@pytest.mark.parametrize("release", ["today", "older"])
def test_a_properly_approved_handover_goes_through_from_either_release(
    world: World, release: str
) -> None:
    world.github.release = release
    world.github.permissions["bob"] = "maintain"
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert world.gate() is None


def test_a_handover_whose_fork_was_deleted_goes_through(world: World) -> None:
    world.github.pulls[world.handover_sha] = [pull(12, "carol", fork_deleted=True)]
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert world.gate() is None


def test_a_squash_merge_from_a_deleted_fork_of_an_older_release_goes_through(
    squashed: tuple[GitRepo, FakeGitHub, str],
) -> None:
    repo, github, sha = squashed
    github.release = "older"
    github.pulls[sha] = [pull(21, "carol", fork_deleted=True)]
    reviewed = "f" * 40
    github.files[("sites/acme-bakery.yaml", reviewed)] = site_yaml(
        "acme-bakery", ANNA, collaborators={}
    )
    github.reviews[21] = [review("bob", "APPROVED", reviewed)]

    assert gate_of(repo, github, handover()) is None


def _bypasses(world: World) -> dict[str, tuple[list[FakePull], list[FakeReview]]]:
    """Each known bypass: the pull requests of the handover's commit and its reviews,
    by the refusal they get."""
    sha, before = world.handover_sha, world.before_sha
    merged = [pull(12, "carol")]
    return {
        "dave has read permission on pixel/sites, not write": (
            merged,
            [review("dave", "APPROVED", sha)],
        ),
        "pull request #12 was never merged": (
            [pull(12, "carol", merged=False)],
            [review("bob", "APPROVED", sha)],
        ),
        "pull request #12 was merged into staging, not into the default branch main": (
            [pull(12, "carol", base="staging")],
            [review("bob", "APPROVED", sha)],
        ),
        f"bob approved {before[:12]}, a commit without the change ({sha[:12]})": (
            merged,
            [review("bob", "APPROVED", before)],
        ),
        "renovate[bot] is a bot": (merged, [review("renovate[bot]", "APPROVED", sha, bot=True)]),
        "CAROL is the pull request's author": (merged, [review("CAROL", "APPROVED", sha)]),
    }


@pytest.mark.parametrize("release", ["today", "older"])
def test_each_known_bypass_is_still_refused_from_either_release(world: World, release: str) -> None:
    world.github.release = release
    world.github.permissions.update({"dave": "read", "renovate[bot]": "write", "CAROL": "write"})
    for why, (pulls, reviews) in _bypasses(world).items():
        world.github.pulls[world.handover_sha] = [
            pull(p.number, p.author, merged=p.merged, base=p.base, fork_deleted=True) for p in pulls
        ]
        world.github.reviews[12] = reviews

        refusal = reason(world.gate())

        assert refusal is not None, why
        assert why in refusal


@pytest.mark.parametrize("release", ["today", "older"])
def test_a_squash_merge_whose_reviewed_commit_github_cannot_find_is_refused(
    squashed: tuple[GitRepo, FakeGitHub, str], release: str
) -> None:
    repo, github, sha = squashed
    github.release = release
    gone = "9" * 40  # neither in this clone nor on GitHub (404)
    github.reviews[21] = [review("bob", "APPROVED", gone)]

    assert reason(gate_of(repo, github, handover())) == (
        "handover not approved: pull request #21 has 0 of the 1 approval it needs (bob "
        f"approved {gone[:12]}, a commit without the change ({sha[:12]}))"
    )


@pytest.mark.parametrize("release", ["today", "older"])
def test_changes_requested_on_the_second_page_of_reviews_is_refused(
    world: World, release: str
) -> None:
    world.github.release = release
    world.github.page_size = 2
    sha = world.handover_sha
    world.github.reviews[12] = [
        review("bob", "APPROVED", sha),
        review("carol", "COMMENTED", sha),
        review("alice", "CHANGES_REQUESTED", sha),  # the second page
    ]

    assert reason(world.gate()) == (
        "handover not approved: pull request #12 has changes requested by alice"
    )
    assert world.github.requests.count("/repos/pixel/sites/pulls/12/reviews") == 2


def test_a_review_without_a_decision_field_holds_the_handover_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_commit(spec: FakeReview, index: int) -> dict[str, Any]:
        answer = FakeGitHub.review_payload(world.github, spec, index)
        del answer["commit_id"]
        return answer

    monkeypatch.setattr(world.github, "review_payload", without_commit)
    world.github.reviews[12] = [review("bob", "APPROVED", world.handover_sha)]

    assert reason(world.gate()) == (
        "handover not approved: could not check the approval on GitHub: GitHub answered GET "
        "/repos/pixel/sites/pulls/12/reviews with a body that does not match its REST "
        "description (0.commit_id: Field required)"
    )
