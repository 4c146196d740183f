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
from reconciler.operations.journal import Journal
from reconciler.operations.plan import changed_scope
from reconciler.operations.planfile import load_plan
from reconciler.operations.reconcile import Reconciler
from reconciler.operations.sandbox_child import SandboxChild
from reconciler.platform.base import Platform
from reconciler.reconcile.apply import ApplyReport, ChangeResult, Gate
from reconciler.reconcile.plan import Plan
from reconciler.render.report import as_note
from reconciler.review.gitrepo import GitRepository, NotARepository


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
            scope = changed_scope(self.root, self.changed_since)
            reconciler = stack.enter_context(
                Reconciler.open(
                    self.root, self.environ, self.sandbox, config=config, platform=self.platform
                )
            )
            gate = None
            if gated and not self.skip_approval:
                gate = self._approval_gate(stack, repository, config.policy)
            plan = saved or self._fresh_plan(reconciler, scope, hooks)
            reconciler.check_policy(plan, force=self.force)
            journal = Journal(self.root)
            earlier = journal.left_behind()  # of runs that were killed
            if not plan.has_changes:
                _record_note(repository, earlier, journal, hooks)
                return ApplyResult(plan, None, saved=saved is not None)
            if not self.yes and saved is None:  # a saved plan was reviewed when it was made
                hooks.confirm(plan)
            report = self._applied(reconciler, plan, gate, journal, hooks)
            skipped_by = self._skipper(repository) if gated and self.skip_approval else None
            note = "\n\n".join(filter(None, [earlier, _note_text(report, plan, skipped_by)]))
            _record_note(repository, note, journal, hooks)
        return ApplyResult(plan, report, saved=saved is not None)

    def _fresh_plan(
        self, reconciler: Reconciler, scope: tuple[set[str] | None, str | None], hooks: ApplyHooks
    ) -> Plan:
        """The plan of this run, shown before anything else can stop it."""
        sites, scope_note = scope
        plan = reconciler.plan(scope=sites, scope_note=scope_note)
        hooks.show_plan(plan)
        return plan

    def _applied(
        self,
        reconciler: Reconciler,
        plan: Plan,
        gate: Gate | None,
        journal: Journal,
        hooks: ApplyHooks,
    ) -> ApplyReport:
        """Apply ``plan``, each change written down in the journal as it completes (a
        killed run leaves what it did there) and shown as progress."""
        with hooks.progress(plan) as on_result, journal.run(plan) as write_down:

            def completed(result: ChangeResult) -> None:
                write_down(result)
                on_result(result)

            return reconciler.apply(
                plan, parallelism=self.parallelism, gate=gate, on_result=completed
            )

    def _check_options(self) -> None:
        if self.plan_file is not None and self.changed_since is not None:
            raise ConfigError(
                "give a plan file or --changed-since, not both: a saved plan already says "
                "which sites it applies"
            )
        if self.require_approval and self.skip_approval:
            raise ConfigError("--require-approval and --skip-approval contradict each other")

    def _skipper(self, repository: GitRepository | None) -> str:
        """Who skipped the gate, by git identity: the note says so."""
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
            if gated or self.changed_since is not None:
                raise
            hooks.warn(
                f"{self.root} is not in a git repository: applying without the uncommitted-"
                "changes check, and this apply is not recorded as a git note"
            )
            return None
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


def _note_text(report: ApplyReport, plan: Plan, skipped_by: str | None) -> str:
    text = as_note(report, plan)
    if skipped_by is not None:
        text += f"\napproval gate skipped (--skip-approval) by {skipped_by}"
    return text


def _record_note(
    repository: GitRepository | None, note: str, journal: Journal, hooks: ApplyHooks
) -> None:
    """A git note on HEAD: when, what was done, what failed, and who skipped the approval
    gate if someone did. A failure only warns, and keeps the note in the journal for the
    next run to record."""
    if not note:
        return
    if repository is None or (sha := repository.head_sha()) is None:
        journal.clear()  # nothing here can record it
        return
    try:
        repository.add_note(sha, note)
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
        text = journal.left_behind()
        if not text or not self.record:
            return text
        with GitRepository.open(self.root) as repository:
            sha = repository.head_sha()
            if sha is None:
                raise ReconcilerError(
                    "the repository has no commit to record the journal on; commit first"
                )
            repository.add_note(sha, text)
        journal.clear()
        return text
