"""``plan``: what apply would change, shown before the policy can refuse it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.operations.reconcile import Reconciler
from reconciler.operations.sandbox_child import SandboxChild
from reconciler.operations.scope import ScopeRequest, resolve, unknown_sites
from reconciler.platform.base import Platform
from reconciler.platform.forked import ForkedPlatform
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
    forked: ForkedPlatform | None = None  # the configured one, opened early in a child
    since_last_apply: bool = False
    sites: tuple[str, ...] = ()

    def run(self, show: Callable[[Plan], None]) -> Plan:
        """Make the plan, ``show`` it, then check the policy and save it to ``out``.

        A plan over the policy limits is shown before it is refused, so that the
        reviewer sees what was refused.
        """
        request = ScopeRequest(self.changed_since, self.since_last_apply, self.sites)
        scope = resolve(self.root, request)
        opened = Reconciler.open(
            self.root, self.environ, self.sandbox, platform=self.platform, forked=self.forked
        )
        with opened as reconciler:
            unknown_sites(request, reconciler.state.sites)
            plan = reconciler.plan(
                scope=scope.sites,
                scope_note=scope.note,
                kind=scope.kind,
                also=scope.also_of(reconciler.state.sites),
            )
        show(plan)
        reconciler.check_policy(plan, force=self.force)
        if self.out is not None:
            from reconciler.operations.planfile import save_plan  # only with --out

            save_plan(plan, self.out)
        return plan
