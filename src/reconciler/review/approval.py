"""The approval gate (DESIGN.md section 8): a gated change goes ahead only when code
review approved it.

A change is approved when the pull request that brought it (for a handover, the last
commit that changed the site's ``owner:`` or ``ask_again_after:``: asking again after a
decline is approved like a new handover; else the last commit that changed the site
file) was merged into the default branch and, by each reviewer's latest verdict, at least
``policy.approvals`` people approved it who are not its author, not bots, and have
write, maintain or admin permission, on a commit that already contained the change.
"Contained": the reviewed commit descends from the change's commit (local history), or,
when this clone lacks it (squash merges), the site file at the reviewed commit already
says what is applied (contents API).

A handover that a pull request brought in unapproved can be approved after the fact: a
later pull request that edits the site file's ``owner:`` line (a comment is enough), so
that its diff shows the handover, approved and merged like any other; for a re-ask, the
``ask_again_after:`` line, so that its diff shows the asking again.

The gate never raises: a change that cannot be checked (GitHub down, a token refused,
a rate limit beyond the bound) is held back with the reason; the others go ahead.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.model import EXPERT_KEYWORD
from reconciler.reconcile.changes import Action, Change
from reconciler.review.github import WRITE_PERMISSIONS, GitHubClient, GitHubError, PullRequest
from reconciler.review.github import Review as Review
from reconciler.review.gitrepo import GitRepository

# Review states that replace a reviewer's earlier verdict; COMMENTED and PENDING do not
# (on GitHub a comment after an approval leaves the approval standing).
_VERDICTS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})

# The keys of the site file that each action carries out. For the handover's keys the
# change is the last commit that changed any of them (DESIGN.md section 8: asking again
# is approved like a new handover); for the others, the last commit of the file.
_KEYS_OF: dict[Action, tuple[str, ...]] = {
    Action.TRANSFER_START: ("owner", "ask_again_after"),
    Action.TRANSFER_CANCEL: ("owner",),
    Action.COLLABORATOR_ADD: ("collaborators",),
    Action.COLLABORATOR_UPDATE: ("collaborators",),
    Action.COLLABORATOR_REMOVE: ("collaborators",),
    Action.BILLING_CONTACT_SET: ("billing_contact",),
    Action.PACKAGE_PURCHASE: ("package",),
}
_OWNERSHIP = frozenset({"owner", "ask_again_after"})  # keys whose line approves later


@dataclass(frozen=True)
class _Subject:
    """What a review must have seen: some keys of one site file, as they are at HEAD."""

    site: str
    keys: tuple[str, ...]
    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class _Change:
    """The commit that made a change, and the lines of the site file it changed (a
    later pull request that edits them shows the change, to approve it after the fact)."""

    sha: str
    lines: frozenset[str]


class ApprovalGate:
    """Decides, per change, whether code review approved it (one lookup per commit)."""

    def __init__(
        self,
        github: GitHubClient,
        repository: GitRepository,
        *,
        actions: Collection[str] = (Action.TRANSFER_START.value,),
        approvals: int = 1,
    ) -> None:
        self.github = github
        self.repository = repository
        self.actions = frozenset(actions)
        self.approvals = approvals
        self._verdicts: dict[tuple[str, str, tuple[str, ...]], str | None] = {}
        self._permissions: dict[str, str] = {}
        self._pulls: dict[str, list[PullRequest]] = {}
        self._pull: dict[int, PullRequest] = {}
        self._reviews: dict[int, list[Review]] = {}
        self._default_branch: str | None = None
        self._lock = threading.Lock()  # apply runs sites in threads; git and caches are shared

    def gate(self, change: Change) -> str | None:
        """Why ``change`` must be held back, or None (an ``apply.Gate``)."""
        if change.action.value not in self.actions:
            return None
        with self._lock:
            made = self._change_of(change)
            reason = self._refusal(change, made)
        if reason is None:
            return None
        lines = made.lines if made is not None else frozenset(_KEYS_OF[change.action][:1])
        return f"{_noun(change)} not approved: {reason}. Next: {_next_step(change, lines)}"

    # --- the commits that brought the change --------------------------------------------

    def _refusal(self, change: Change, made: _Change | None) -> str | None:
        site = change.site
        found = self.repository.site_file(site)
        if found is None or made is None:
            return (
                f"no commit reachable from HEAD adds or changes sites/{site}.yaml, so no pull "
                "request can have approved it"
            )
        keys = _KEYS_OF[change.action]
        subject = _Subject(site, keys, found[0], _values(found[1], keys))
        reason = self._approved_by_any(subject, made)
        if reason is None and change.action is Action.TRANSFER_START:
            # Who the handle is: judged from the commit that set the owner, not from a
            # re-ask, whose review shows the site file and not people.yaml.
            owner_set = self.repository.last_owner_change(site) or made.sha
            people = self._handle_commit_after(site, owner_set)
            if people is not None and (reason := self._checked(people, None)) is not None:
                reason += " (the people.yaml change that says who the new owner is)"
        return reason

    def _change_of(self, change: Change) -> _Change | None:
        repository = self.repository
        keys = _KEYS_OF[change.action]
        if keys[0] == "owner":
            found = repository.last_change_of(change.site, keys)
            if found is not None:
                return _Change(found[0], found[1] & _OWNERSHIP)
        sha = repository.last_commit_touching(change.site)
        return None if sha is None else _Change(sha, frozenset(keys[:1]) & _OWNERSHIP)

    def _approved_by_any(self, subject: _Subject, made: _Change) -> str | None:
        """None when the pull request of ``made`` approved it, or a later one that edited
        the lines ``made`` changed (``owner:``, ``ask_again_after:``); else the reason of
        the first."""
        later = self.repository.line_edits(subject.site, made.sha, made.lines)
        first = self._checked(made.sha, subject)
        if first is None:
            return None
        for sha in reversed(later):  # the newest first: the likeliest to be the fix
            if self._checked(sha, subject) is None:
                return None
        return first

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

    # --- GitHub's verdict on one commit ------------------------------------------------

    def _checked(self, sha: str, subject: _Subject | None) -> str | None:
        cache_key = (sha, subject.path if subject else "", subject.keys if subject else ())
        if cache_key not in self._verdicts:
            try:
                self._verdicts[cache_key] = self._check_commit(sha, subject)
            except GitHubError as exc:
                self._verdicts[cache_key] = f"could not check the approval on GitHub: {exc.message}"
        return self._verdicts[cache_key]

    def _check_commit(self, sha: str, subject: _Subject | None) -> str | None:
        if sha not in self._pulls:
            self._pulls[sha] = self.github.pulls_for_commit(sha)
        pulls = self._pulls[sha]
        if not pulls:
            return f"commit {sha[:12]} is in no pull request on GitHub (pushed directly?)"
        default = self._branch()
        merged = [p for p in pulls if p.merged and p.base_ref == default]
        if not merged:
            return _not_merged(pulls, default)
        number = max(merged, key=lambda p: p.merged_at or "").number
        if number not in self._pull:
            self._pull[number] = self.github.pull(number)
        pull = self._pull[number]
        if not pull.merged or pull.base_ref != default:  # the listing was out of date
            return _not_merged([pull], default)
        return self._verdict(pull, sha, subject)

    def _branch(self) -> str:
        if self._default_branch is None:
            self._default_branch = self.github.default_branch()
        return self._default_branch

    def _verdict(self, pull: PullRequest, sha: str, subject: _Subject | None) -> str | None:
        counted: list[str] = []
        refused: list[str] = []
        blocking: list[str] = []
        if pull.number not in self._reviews:
            self._reviews[pull.number] = self.github.reviews(pull.number)
        for reviewer, review in latest_verdicts(self._reviews[pull.number]).items():
            why_not = self._why_not(review, pull, sha, subject)
            if why_not is not None:
                refused.append(f"{reviewer} {why_not}")
            elif review.state == "CHANGES_REQUESTED":
                blocking.append(reviewer)
            elif review.state == "APPROVED":
                counted.append(reviewer)
        if blocking:
            return f"pull request #{pull.number} has changes requested by {', '.join(blocking)}"
        if len(counted) >= self.approvals:
            return None
        need = f"{self.approvals} approval{'s' if self.approvals != 1 else ''}"
        text = f"pull request #{pull.number} has {len(counted)} of the {need} it needs"
        if refused:
            text += " (" + "; ".join(refused) + ")"
        return text

    def _why_not(
        self, review: Review, pull: PullRequest, sha: str, subject: _Subject | None
    ) -> str | None:
        """Why a reviewer's verdict does not count, or None."""
        if review.reviewer.lower() == pull.author.lower():
            return "is the pull request's author"
        if review.is_bot:
            return "is a bot"
        permission = self._permission(review.reviewer)
        if permission not in WRITE_PERMISSIONS:
            return f"has {permission} permission on {self.github.repository}, not write"
        if review.state == "APPROVED" and not self._contains(review.commit_id, sha, subject):
            reviewed = (review.commit_id or "an unknown commit")[:12]
            return f"approved {reviewed}, a commit without the change ({sha[:12]})"
        return None

    def _permission(self, login: str) -> str:
        if login not in self._permissions:
            self._permissions[login] = self.github.permission(login)
        return self._permissions[login]

    def _contains(self, reviewed: str | None, sha: str, subject: _Subject | None) -> bool:
        """Whether the reviewed commit already contained the change made by ``sha``."""
        if reviewed is None:
            return False
        if self.repository.has_commit(reviewed):
            return self.repository.is_ancestor(sha, reviewed)
        if subject is None:  # a people.yaml change, reviewed on a commit this clone lacks
            return False
        text = self.github.file_at(subject.path, reviewed)
        return text is not None and _values(text, subject.keys) == subject.values


def latest_verdicts(reviews: list[Review]) -> dict[str, Review]:
    """Each reviewer's latest verdict (APPROVED, CHANGES_REQUESTED, DISMISSED); reviews
    are given oldest first, as GitHub lists them. Logins compare case-insensitively."""
    verdicts: dict[str, Review] = {}
    for review in reviews:
        if review.state in _VERDICTS:
            verdicts.pop(review.reviewer.lower(), None)
            verdicts[review.reviewer.lower()] = review
    return {review.reviewer: review for review in verdicts.values()}


def _not_merged(pulls: list[PullRequest], default: str) -> str:
    elsewhere = [p for p in pulls if p.merged]
    if elsewhere:
        pull = elsewhere[0]
        return (
            f"pull request #{pull.number} was merged into {pull.base_ref}, not into the "
            f"default branch {default}"
        )
    numbers = ", ".join(f"#{p.number}" for p in pulls)
    return f"pull request {numbers} was never merged"


def _values(text: str, keys: Iterable[str]) -> tuple[Any, ...]:
    """Keys of a site file's text, e-mails in lower case (as the gate compares them)."""
    from reconciler.desired.loader import parse_yaml

    document = parse_yaml(text, "site").document
    data = getattr(document, "data", None)
    return tuple(_comparable(data.get(key) if isinstance(data, dict) else None) for key in keys)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, dict):
        return {str(k).strip().lower(): v for k, v in value.items()}
    return value


def _noun(change: Change) -> str:
    return "handover" if change.action is Action.TRANSFER_START else change.action.value


def _next_step(change: Change, lines: frozenset[str]) -> str:
    path = f"sites/{change.site}.yaml"
    step = (
        "have the pull request approved by someone other than its author with write access "
        "(on a commit that contains the change) and merged into the default branch"
    )
    if lines:
        named = " and ".join(f"`{key}:`" for key in ("owner", "ask_again_after") if key in lines)
        step += (
            f"; if it is already merged, approve the handover after the fact: open a pull "
            f"request that edits the {named} line{'s' if len(lines) > 1 else ''} of {path} "
            "(a comment such as `# handover reviewed` is enough), have it approved and merge it"
        )
    else:
        step += f"; if it is already merged, a new approved pull request that changes {path}"
    return step + (
        "; the next apply then goes ahead. To apply without approval: "
        "`reconciler apply --skip-approval` (recorded in the git note)"
    )
