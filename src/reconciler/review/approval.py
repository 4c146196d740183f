"""Approval of handovers in code review: the gate behind ``apply --require-approval``.

A handover (``transfer.start``) goes ahead only when the pull request that brought the
site's current owner into the applied commit was approved by someone other than its
author, with no outstanding request for changes. Anything else passes the gate.

The check never raises: a handover that cannot be checked (no pull request, GitHub
down, a token refused) is skipped with the reason, and the other changes go ahead.
"""

from __future__ import annotations

import threading

from reconciler.model import EXPERT_KEYWORD
from reconciler.reconcile.changes import Action, Change
from reconciler.review.github import GitHubClient, GitHubError, PullRequest, Review
from reconciler.review.gitrepo import GitRepository

NOT_APPROVED = "handover not approved"

# Review states that replace a reviewer's earlier verdict; COMMENTED and PENDING do not
# (on GitHub a comment after an approval leaves the approval standing).
_VERDICTS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


class HandoverApprovals:
    """Decides, per handover, whether code review approved it (one lookup per commit)."""

    def __init__(self, github: GitHubClient, repository: GitRepository) -> None:
        self.github = github
        self.repository = repository
        self._by_commit: dict[str, str | None] = {}
        self._lock = threading.Lock()  # apply runs sites in threads; git and the cache are shared

    def gate(self, change: Change) -> str | None:
        """Why ``change`` must be skipped, or None (an ``apply.Gate``)."""
        if change.action is not Action.TRANSFER_START:
            return None
        with self._lock:
            sha = self._commit_of(change.site)
            if sha is None:
                return (
                    f"{NOT_APPROVED}: no commit reachable from HEAD adds or changes "
                    f"sites/{change.site}.yaml, so no pull request can have approved it"
                )
            reason = self._checked(sha)
            if reason is None and (people := self._handle_commit_after(change.site, sha)):
                # The owner is a handle whose address changed after the owner was set:
                # that change redirects the handover, so it needs review as well.
                reason = self._checked(people)
                if reason is not None:
                    reason += " (the people.yaml change that says who the owner is)"
            return reason

    def _checked(self, sha: str) -> str | None:
        if sha not in self._by_commit:
            self._by_commit[sha] = self._check_commit(sha)
        return self._by_commit[sha]

    def _handle_commit_after(self, site_id: str, owner_sha: str) -> str | None:
        """The commit that last set the owner handle's address, if it came after
        ``owner_sha`` (before it, the owner's reviewers saw that address)."""
        owner = self.repository.owner_as_written(site_id)
        if owner is None or "@" in owner or owner == EXPERT_KEYWORD:
            return None
        changed = self.repository.last_handle_change(owner)
        if changed is None or self.repository.is_ancestor(changed, owner_sha):
            return None
        return changed

    def _commit_of(self, site_id: str) -> str | None:
        """The commit that set the current owner (else the last one touching the file)."""
        repository = self.repository
        return repository.last_owner_change(site_id) or repository.last_commit_touching(site_id)

    def _check_commit(self, sha: str) -> str | None:
        try:
            pulls = self.github.pulls_for_commit(sha)
            if not pulls:
                return (
                    f"{NOT_APPROVED}: commit {sha[:12]} is in no pull request on GitHub "
                    "(pushed directly?); hand over through a reviewed pull request"
                )
            pull = _preferred(pulls)
            return _verdict(pull, self.github.reviews(pull.number))
        except GitHubError as exc:
            return f"{NOT_APPROVED}: could not check the approval on GitHub: {exc.message}"


def _preferred(pulls: list[PullRequest]) -> PullRequest:
    """The merged pull request (the latest merged if several), else the first."""
    merged = [pull for pull in pulls if pull.merged]
    if merged:
        return max(merged, key=lambda pull: pull.merged_at or "")
    return pulls[0]


def latest_verdicts(reviews: list[Review], author: str) -> dict[str, str]:
    """Each reviewer's latest verdict (APPROVED, CHANGES_REQUESTED, DISMISSED), the
    pull request's author excluded; reviews are given oldest first, as GitHub lists them.
    """
    verdicts: dict[str, str] = {}
    for review in reviews:
        if review.state in _VERDICTS and review.reviewer.lower() != author.lower():
            verdicts[review.reviewer] = review.state
    return verdicts


def _verdict(pull: PullRequest, reviews: list[Review]) -> str | None:
    verdicts = latest_verdicts(reviews, pull.author)
    blocking = sorted(who for who, state in verdicts.items() if state == "CHANGES_REQUESTED")
    if blocking:
        return (
            f"{NOT_APPROVED}: pull request #{pull.number} has changes requested by "
            f"{', '.join(blocking)}"
        )
    if not any(state == "APPROVED" for state in verdicts.values()):
        return (
            f"{NOT_APPROVED}: pull request #{pull.number} has no approval from someone "
            f"other than its author ({pull.author})"
        )
    return None
