"""`apply --require-approval`: a handover goes ahead only when its pull request was
approved by someone other than its author (checked against a fake GitHub over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from git_support import TOKEN, FakeGitHub, GitRepo, pull, review

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
from reconciler.review.approval import HandoverApprovals
from reconciler.review.github import GitHubClient
from reconciler.review.gitrepo import GitRepository

ANNA = "anna@acme-bakery.example"


def handover(site: str = "acme-bakery", to: str = ANNA) -> Change:
    return TransferStart(
        site=site,
        to=to,
        stay_as_collaborator=True,
        billing_contact_before="studio@pixel.example",
        package=Package.FREE,
        package_paid_until=None,
    )


@dataclass
class World:
    repo: GitRepo
    github: FakeGitHub
    approvals: HandoverApprovals
    handover_sha: str


@pytest.fixture
def world(repo: GitRepo, github: FakeGitHub) -> Iterator[World]:
    """carol's pull request #12 hands ACME over; alice merged it (a merge commit)."""
    repo.checkout("-b", "handover")
    repo.site("acme-bakery", ANNA, collaborators={"studio@pixel.example": "editor"})
    sha = repo.commit("Hand ACME over to Anna", author="carol")
    repo.checkout("main")
    repo.merge("handover", "Merge pull request #12 from pixel/handover")
    github.pulls[sha] = [pull(12, "carol")]
    with (
        GitHubClient.from_environ(github.environ) as client,
        GitRepository.open(repo.root) as repository,
    ):
        yield World(repo, github, HandoverApprovals(client, repository), sha)


NO_APPROVAL = (
    "handover not approved: pull request #12 has no approval from someone other than its "
    "author (carol)"
)


def test_approved_by_someone_else(world: World) -> None:
    world.github.reviews[12] = [review("bob", "APPROVED")]

    assert world.approvals.gate(handover()) is None
    assert world.github.requests == [
        f"/repos/pixel/sites/commits/{world.handover_sha}/pulls",
        "/repos/pixel/sites/pulls/12/reviews",
    ]


def test_approved_by_the_author_only(world: World) -> None:
    world.github.reviews[12] = [review("carol", "APPROVED"), review("Carol", "APPROVED")]

    assert world.approvals.gate(handover()) == NO_APPROVAL


@pytest.mark.parametrize(
    ("reviews", "expected"),
    [
        ([], NO_APPROVAL),
        ([("bob", "COMMENTED")], NO_APPROVAL),
        ([("bob", "APPROVED"), ("bob", "COMMENTED")], None),
        ([("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")], None),
        ([("bob", "APPROVED"), ("bob", "DISMISSED")], NO_APPROVAL),
        ([("bob", "APPROVED"), ("bob", "PENDING")], None),
        (
            [("bob", "APPROVED"), ("bob", "CHANGES_REQUESTED")],
            "handover not approved: pull request #12 has changes requested by bob",
        ),
        (
            [("dave", "CHANGES_REQUESTED"), ("bob", "APPROVED"), ("erin", "CHANGES_REQUESTED")],
            "handover not approved: pull request #12 has changes requested by dave, erin",
        ),
        ([("carol", "CHANGES_REQUESTED"), ("bob", "APPROVED")], None),
    ],
    ids=[
        "no-reviews",
        "comment-only",
        "comment-after-approval-keeps-it",
        "approval-after-changes-requested",
        "dismissed-approval",
        "pending-review-ignored",
        "changes-requested-after-approval",
        "changes-requested-by-others",
        "author-own-review-ignored",
    ],
)
def test_the_latest_verdict_of_each_reviewer_counts(
    world: World, reviews: list[tuple[str, str]], expected: str | None
) -> None:
    world.github.reviews[12] = [review(who, state) for who, state in reviews]

    assert world.approvals.gate(handover()) == expected


def test_no_pull_request_found(world: World) -> None:
    world.github.pulls.clear()

    assert world.approvals.gate(handover()) == (
        f"handover not approved: commit {world.handover_sha[:12]} is in no pull request on "
        "GitHub (pushed directly?); hand over through a reviewed pull request"
    )


def test_the_merged_pull_request_is_preferred(world: World) -> None:
    world.github.pulls[world.handover_sha] = [pull(15, "bob", merged=False), pull(12, "carol")]
    world.github.reviews = {12: [review("bob", "APPROVED")], 15: []}

    assert world.approvals.gate(handover()) is None
    assert "/repos/pixel/sites/pulls/15/reviews" not in world.github.requests


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (502, "GitHub answered 502 Bad Gateway for GET /repos/pixel/sites/commits/"),
        (401, "GitHub answered 401 Unauthorized for GET /repos/pixel/sites/commits/"),
    ],
)
def test_github_failing_skips_the_handover_with_the_reason(
    world: World, status: int, reason: str
) -> None:
    world.github.fail_with = status

    why = world.approvals.gate(handover())

    assert why is not None
    assert why.startswith("handover not approved: could not check the approval on GitHub: ")
    assert reason in why
    assert TOKEN not in why


def test_a_wrong_token_is_never_shown(repo: GitRepo, github: FakeGitHub) -> None:
    environ = {**github.environ, "GITHUB_TOKEN": "ghs_not-the-right-one"}
    with GitHubClient.from_environ(environ) as client, GitRepository.open(repo.root) as opened:
        why = HandoverApprovals(client, opened).gate(handover())

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
        assert world.approvals.gate(change) is None
    assert world.github.requests == []


def test_handovers_of_one_pull_request_ask_github_once(repo: GitRepo, github: FakeGitHub) -> None:
    repo.site("acme-bakery", ANNA)
    repo.site("bistro-verde", "marco@bistro-verde.example")
    sha = repo.commit("Hand over ACME and Bistro Verde", author="carol")  # a squash merge
    github.pulls[sha] = [pull(21, "carol")]
    github.reviews[21] = [review("bob", "APPROVED")]
    with (
        GitHubClient.from_environ(github.environ) as client,
        GitRepository.open(repo.root) as opened,
    ):
        approvals = HandoverApprovals(client, opened)
        verdicts = [approvals.gate(handover()) for _ in range(3)]
        verdicts.append(approvals.gate(handover("bistro-verde", "marco@bistro-verde.example")))

    assert verdicts == [None] * 4
    assert len(github.requests) == 2


def test_a_later_approved_pull_request_does_not_approve_an_earlier_handover(world: World) -> None:
    world.github.reviews[12] = []  # the handover was merged without approval
    world.repo.site("acme-bakery", ANNA, collaborators={"studio@pixel.example": "viewer"})
    later = world.repo.commit("Studio only views ACME", author="bob")
    world.github.pulls[later] = [pull(14, "bob")]
    world.github.reviews[14] = [review("alice", "APPROVED")]

    assert world.approvals.gate(handover()) == NO_APPROVAL
    assert world.github.requests[0] == f"/repos/pixel/sites/commits/{world.handover_sha}/pulls"


def test_a_site_file_never_committed(world: World) -> None:
    world.repo.site("harbor-yoga", "lena@harbor-yoga.example")

    assert world.approvals.gate(handover("harbor-yoga", "lena@harbor-yoga.example")) == (
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
    world.github.reviews[12] = [review("carol", "APPROVED")]
    grant = CollaboratorAdd(site="acme-bakery", email="studio@pixel.example", role=Role.EDITOR)
    plan = Plan(
        fingerprint="f",
        expert="studio@pixel.example",
        scope=("acme-bakery",),
        versions={"acme-bakery": 1},
        changes=(grant, handover()),
    )
    writer = _Writer()

    report = Applier(writer, gate=world.approvals.gate).apply(plan)

    assert [(r.change.action, r.outcome, r.reason) for r in report.results] == [
        (Action.COLLABORATOR_ADD, Outcome.DONE, None),
        (Action.TRANSFER_START, Outcome.SKIPPED, NO_APPROVAL),
    ]
    assert writer.calls == ["put_collaborator acme-bakery"]
    assert report.ok


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
    github.reviews[12] = [review("bob", "APPROVED")]
    return repo, github


def gate_of(repo: GitRepo, github: FakeGitHub, change: Change) -> str | None:
    with (
        GitHubClient.from_environ(github.environ) as client,
        GitRepository.open(repo.root) as repository,
    ):
        return HandoverApprovals(client, repository).gate(change)


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
    github.reviews[13] = [review("bob", "APPROVED")]

    reason = gate_of(repo, github, handover(to=mallory))

    assert reason == (
        f"handover not approved: commit {pushed[:12]} is in no pull request on GitHub "
        "(pushed directly?); hand over through a reviewed pull request (the people.yaml "
        "change that says who the owner is)"
    )
