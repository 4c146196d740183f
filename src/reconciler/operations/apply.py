"""``apply``: a saved plan as it is, or a fresh plan after confirmation.

Around the apply itself: the working tree must hold no uncommitted desired state, a
handover may need an approved pull request, and what was done is recorded as a git
note. Showing, asking and progress are the terminal's, passed in as ``ApplyHooks``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reconciler.desired.config import Policy
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.extras import needed
from reconciler.operations.configuration import load_config
from reconciler.operations.journal import JOURNAL, Journal
from reconciler.operations.planfile import load_plan
from reconciler.operations.reconcile import Reconciler
from reconciler.operations.sandbox_child import SandboxChild
from reconciler.operations.scope import Scope, ScopeRequest, resolve, unknown_sites
from reconciler.platform.base import Platform
from reconciler.reconcile.apply import ApplyReport, ChangeResult, Gate, Outcome
from reconciler.reconcile.changes import NoteCode
from reconciler.reconcile.plan import Plan, ScopeKind
from reconciler.render.report import as_note
from reconciler.review.gitrepo import GitRepository, NotARepository
from reconciler.review.notes import ApplyBlock


class ApplyHooks(Protocol):
    """What apply asks of whoever runs it (the CLI: a terminal or a CI log)."""

    def warn(self, message: str) -> None:
        """Say something went less well than it should, without stopping."""

    def show_plan(self, plan: Plan) -> None:
        """Show a plan made in this run, before anything is applied."""

    def confirm(self, plan: Plan) -> None:
        """Ask before applying a plan made in this run; raise to stop."""

    def progress(self, plan: Plan) -> AbstractContextManager[Callable[[ChangeResult], None]]:
        """A callback told of each change as it completes, while the plan applies."""


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    report: ApplyReport | None  # None when the plan had nothing to apply
    saved: bool  # the plan came from a file

    @property
    def ok(self) -> bool:
        return self.report is None or self.report.ok


@dataclass(frozen=True)
class ApplyOperation:
    root: Path
    environ: Mapping[str, str]
    plan_file: Path | None = None
    yes: bool = False
    parallelism: int = 8
    force: bool = False
    require_approval: bool = False
    skip_approval: bool = False
    allow_dirty: bool = False
    changed_since: str | None = None
    sandbox: SandboxChild | None = None  # the embedded sandbox, if started early
    platform: Platform | None = None  # instead of the configured one (tests)
    since_last_apply: bool = False
    sites: tuple[str, ...] = ()

    @property
    def _request(self) -> ScopeRequest:
        return ScopeRequest(self.changed_since, self.since_last_apply, self.sites)

    def run(self, hooks: ApplyHooks) -> ApplyResult:
        """Check, plan (or load), gate, confirm, apply, record: one step each below.

        reconciler.yaml and the site files are read once, by the first two steps.
        """
        self._check_options()
        saved = load_plan(self.plan_file) if self.plan_file is not None else None
        config = load_config(self.root)
        gated = self.require_approval or config.policy.require_approval is not None
        with ExitStack() as stack:
            repository = self._checked_repository(stack, hooks, gated)
            commit = repository.head_sha() if repository is not None else None
            scope = resolve(self.root, self._request)
            reconciler = stack.enter_context(
                Reconciler.open(
                    self.root,
                    self.environ,
                    self.sandbox,
                    config=config,
                    platform=self.platform,
                    # A saved plan's preflight covers its own sites only: ask nothing early.
                    preflight_early=saved is None,
                )
            )
            unknown_sites(self._request, reconciler.state.sites)
            gate = None
            if gated and not self.skip_approval:
                gate = self._approval_gate(stack, repository, config.policy)
            plan = saved or self._fresh_plan(reconciler, scope, hooks)
            reconciler.check_policy(plan, force=self.force)
            journal = Journal(self.root)
            earlier = journal.left_behind(commit)  # of runs that were killed
            kind = self._recorded_kind(plan, saved is not None, reconciler, repository)
            record = _Record(commit, kind, self._skipper(repository))
            if not plan.has_changes:
                report = ApplyReport(())
                _record_note(
                    repository, commit, record.joined(earlier, report, plan), journal, hooks
                )
                return ApplyResult(plan, None, saved=saved is not None)
            if not self.yes and saved is None:  # a saved plan was reviewed when it was made
                hooks.confirm(plan)
            report = self._applied(reconciler, plan, gate, journal, hooks, record)
            _record_note(repository, commit, record.joined(earlier, report, plan), journal, hooks)
        return ApplyResult(plan, report, saved=saved is not None)

    def _fresh_plan(self, reconciler: Reconciler, scope: Scope, hooks: ApplyHooks) -> Plan:
        """The plan of this run, shown before anything else can stop it."""
        plan = reconciler.plan(scope=scope.sites, scope_note=scope.note, kind=scope.kind)
        hooks.show_plan(plan)
        return plan

    def _recorded_kind(
        self,
        plan: Plan,
        saved: bool,
        reconciler: Reconciler,
        repository: GitRepository | None,
    ) -> ScopeKind:
        """The scope the note records. A saved plan says what it covers, but only what is
        checked here can make it the base of ``--since-last-apply``: "all" covers every
        site file, "since-last-apply" every site changed since the last complete apply."""
        kind = plan.kind
        if not saved or kind not in (ScopeKind.ALL, ScopeKind.SINCE_LAST_APPLY):
            return kind
        covered = set(plan.scope)
        if kind is ScopeKind.ALL:
            return kind if covered >= set(reconciler.state.sites) else ScopeKind.SITES
        if repository is None or (base := repository.last_complete_apply()) is None:
            return ScopeKind.SITES
        sites, shared = repository.changed_scope(base)
        needed = set(reconciler.state.sites) if shared else sites & set(reconciler.state.sites)
        return kind if covered >= needed else ScopeKind.SITES

    def _applied(
        self,
        reconciler: Reconciler,
        plan: Plan,
        gate: Gate | None,
        journal: Journal,
        hooks: ApplyHooks,
        record: _Record,
    ) -> ApplyReport:
        """Apply ``plan``, each change written down in the journal as it completes (a
        killed run leaves what it did there) and shown as progress."""
        opened = journal.run(plan, record.unfinished(plan))
        with hooks.progress(plan) as on_result, opened as write_down:

            def completed(result: ChangeResult) -> None:
                write_down(result)
                on_result(result)

            return reconciler.apply(
                plan, parallelism=self.parallelism, gate=gate, on_result=completed
            )

    def _check_options(self) -> None:
        self._request.check()
        if self.plan_file is not None and (self._request.needs_git or self.sites):
            given = (
                "--site"
                if self.sites
                else ("--since-last-apply" if self.since_last_apply else "--changed-since")
            )
            raise ConfigError(
                f"give a plan file or {given}, not both: a saved plan already says "
                "which sites it applies"
            )
        if self.require_approval and self.skip_approval:
            raise ConfigError("--require-approval and --skip-approval contradict each other")

    def _skipper(self, repository: GitRepository | None) -> str | None:
        """Who skipped the gate (--skip-approval), by git identity: the note says so,
        whether or not reconciler.yaml sets the policy (DESIGN.md section 8)."""
        if not self.skip_approval:
            return None
        identity = repository.identity() if repository is not None else None
        return identity or "an unknown user (no git user.name or user.email)"

    def _checked_repository(
        self, stack: ExitStack, hooks: ApplyHooks, gated: bool
    ) -> GitRepository | None:
        """The git repository, refused when the desired state has uncommitted changes.

        Outside git, apply still works (a first try, a test folder) but records nothing;
        approvals need git, so the approval gate (or --changed-since) refuses that.
        """
        try:
            repository = stack.enter_context(GitRepository.open(self.root))
        except NotARepository:  # a broken repository is an error, not "no repository"
            if gated or self._request.needs_git:
                raise
            hooks.warn(
                f"{self.root} is not in a git repository: applying without the uncommitted-"
                "changes check, and this apply is not recorded as a git note"
            )
            return None
        if repository.tracks(JOURNAL.as_posix()):
            raise ReconcilerError(TRACKED_JOURNAL)
        dirty = repository.uncommitted_desired_state()
        if dirty and not self.allow_dirty:
            raise ReconcilerError(
                f"uncommitted changes to the desired state ({', '.join(dirty)}): apply what "
                "is committed, so that git shows what was applied; commit them, or pass "
                "--allow-dirty"
            )
        return repository

    def _approval_gate(
        self, stack: ExitStack, repository: GitRepository | None, policy: Policy
    ) -> Gate:
        with needed("github", "the approval gate (--require-approval, policy.require_approval)"):
            from reconciler.review.approval import ApprovalGate
            from reconciler.review.github import GitHubClient

        assert repository is not None  # _checked_repository refuses a missing one
        github = stack.enter_context(GitHubClient.from_environ(self.environ))
        gate = ApprovalGate(
            github, repository, actions=policy.gated_actions, approvals=policy.approvals
        )
        return gate.gate


TRACKED_JOURNAL = (
    f"{JOURNAL.as_posix()} is tracked by git: the apply journal is written only by apply "
    "on this machine, and a committed one would put into the git note (and `reconciler "
    "history`) changes that no run made. Nothing was applied. Remove it from git "
    f"(`git rm --cached {JOURNAL.as_posix()}`; `.reconciler/` belongs in .gitignore), "
    "commit, and apply again"
)


@dataclass(frozen=True)
class _Record:
    """What this run's block of the git note says besides its results."""

    commit: str | None  # HEAD when the run started: the commit the note goes on
    kind: ScopeKind
    skipped_by: str | None  # who passed --skip-approval

    def unfinished(self, plan: Plan) -> str:
        """The journal's first line: nothing attempted yet (the next run counts)."""
        held = len(plan.changes) + _preflight_held(plan)
        return _block(self.commit, self.kind, finished=False, failed=0, held=held)

    def joined(self, earlier: str, report: ApplyReport, plan: Plan) -> str:
        """The note: the journals of killed runs, then this run's block."""
        failed = len(report.of(Outcome.FAILED))
        held = len(report.of(Outcome.SKIPPED)) + _preflight_held(plan)
        text = _block(self.commit, self.kind, finished=True, failed=failed, held=held)
        text += "\n" + as_note(report, plan)
        if self.skipped_by is not None:
            text += f"\napproval gate skipped (--skip-approval) by {self.skipped_by}"
        return "\n\n".join(filter(None, [earlier, text]))


def _preflight_held(plan: Plan) -> int:
    """Changes the plan held back because the platform would refuse them now."""
    return sum(1 for note in plan.notes if note.code is NoteCode.PREFLIGHT_REFUSED)


def _block(commit: str | None, kind: ScopeKind, *, finished: bool, failed: int, held: int) -> str:
    if commit is None:  # outside git nothing is recorded; the journal still says what
        return ""
    return ApplyBlock(commit, kind, finished, failed, held).line()


def _record_note(
    repository: GitRepository | None,
    commit: str | None,
    note: str,
    journal: Journal,
    hooks: ApplyHooks,
) -> None:
    """A git note on the commit the run applied: its block line, when, what was done,
    what failed, and who skipped the approval gate if someone did. A failure only
    warns, and keeps the note in the journal for the next run to record."""
    if not note:
        return
    if repository is None or commit is None:
        journal.clear()  # nothing here can record it
        return
    try:
        repository.add_note(commit, note)
    except ReconcilerError as exc:
        journal.replace(note)
        hooks.warn(f"the apply was not recorded: {exc.message}")
        return
    journal.clear()


@dataclass(frozen=True)
class JournalOperation:
    """``journal``: what killed applies left behind; ``record`` notes it on HEAD."""

    root: Path
    record: bool = False

    def run(self) -> str:
        """The journal's text ("" when every apply was recorded)."""
        journal = Journal(self.root)
        try:
            repository = GitRepository.open(self.root)
        except NotARepository:
            if self.record:
                raise
            return journal.left_behind()
        with repository:
            if repository.tracks(JOURNAL.as_posix()):
                raise ReconcilerError(TRACKED_JOURNAL.replace("Nothing was applied. ", ""))
            sha = repository.head_sha()
            text = journal.left_behind(sha)
            if not text or not self.record:
                return text
            if sha is None:
                raise ReconcilerError(
                    "the repository has no commit to record the journal on; commit first"
                )
            repository.add_note(sha, text)
        journal.clear()
        return text
