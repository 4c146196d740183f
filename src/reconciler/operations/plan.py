"""``plan``: what apply would change, shown before the policy can refuse it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.operations.planfile import save_plan
from reconciler.operations.reconcile import Reconciler
from reconciler.operations.sandbox_child import SandboxChild
from reconciler.platform.base import Platform
from reconciler.reconcile.plan import Plan


@dataclass(frozen=True)
class PlanOperation:
    root: Path
    environ: Mapping[str, str]
    changed_since: str | None = None
    force: bool = False
    out: Path | None = None
    sandbox: SandboxChild | None = None  # the embedded sandbox, if started early
    platform: Platform | None = None  # instead of the configured one (tests)

    def run(self, show: Callable[[Plan], None]) -> Plan:
        """Make the plan, ``show`` it, then check the policy and save it to ``out``.

        A plan over the policy limits is shown before it is refused, so that the
        reviewer sees what was refused.
        """
        scope, note = changed_scope(self.root, self.changed_since)
        opened = Reconciler.open(self.root, self.environ, self.sandbox, platform=self.platform)
        with opened as reconciler:
            plan = reconciler.plan(scope=scope, scope_note=note)
        show(plan)
        reconciler.check_policy(plan, force=self.force)
        if self.out is not None:
            save_plan(plan, self.out)
        return plan


def changed_scope(root: Path, changed_since: str | None) -> tuple[set[str] | None, str | None]:
    """The sites whose files changed since the git ref ``changed_since`` (None for all),
    and a sentence saying so for the plan."""
    if changed_since is None:
        return None, None
    # Imported here: GitPython runs `git version` on import, a tenth of a second that a
    # plan of every site does not need.
    from reconciler.review.gitrepo import GitRepository

    with GitRepository.open(root) as repository:
        sites, shared = repository.changed_scope(changed_since)
    if shared:
        files = " and ".join(shared)
        return None, f"{files} changed since {changed_since}: every site is planned."
    return sites, f"Sites whose files changed since {changed_since}: {len(sites)}."
