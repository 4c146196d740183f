"""The reconcile operations behind ``plan`` and ``apply``, over one platform session."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.desired.config import Config
from reconciler.desired.loader import DesiredState, load_repository
from reconciler.errors import PlanRefused
from reconciler.model import ObservedSite, TransferRecord
from reconciler.operations.configuration import load_config
from reconciler.operations.early_preflight import EarlyPreflight
from reconciler.operations.sandbox_child import SandboxChild
from reconciler.operations.workspace import interest_in, observe, open_platform
from reconciler.platform.base import Capability, DryRun, DryRunAnswer, Platform
from reconciler.platform.errors import PlatformError
from reconciler.reconcile.changes import Change
from reconciler.reconcile.diff import Facts
from reconciler.reconcile.plan import (
    Plan,
    ScopeKind,
    build_plan,
    check_derived,
    check_fresh,
    check_policy,
    with_rest,
)
from reconciler.reconcile.preflight import ChangeKey, dry_runs, findings, hold_back, to_dry_run

if TYPE_CHECKING:  # annotations only: apply alone imports the applier, plan the fork
    from reconciler.platform.forked import ForkedPlatform
    from reconciler.reconcile.apply import ApplyReport, ChangeResult, Gate

log = logging.getLogger("reconciler")


class Reconciler:
    """The desired state of one repository and its platform."""

    def __init__(
        self,
        state: DesiredState,
        platform: Platform,
        observed: dict[str, ObservedSite] | None = None,
        early: Mapping[DryRun, DryRunAnswer] | None = None,
    ) -> None:
        self.state = state
        self.platform = platform
        self._observed = observed
        self._early = dict(early or {})  # dry runs answered while the files were read
        self._made_here: set[str] = set()  # fingerprints of plans made in this session
        self.facts = Facts()  # what the latest plan read beyond the sites (status shows it)
        self.every_sent = False  # read the whole sent listing for every plan (status counts it)

    @classmethod
    @contextmanager
    def open(
        cls,
        root: Path,
        environ: Mapping[str, str],
        sandbox: SandboxChild | None = None,
        *,
        config: Config | None = None,
        platform: Platform | None = None,
        preflight_early: bool = True,
        forked: ForkedPlatform | None = None,
    ) -> Iterator[Reconciler]:
        """Read the repository and, meanwhile, connect to the platform and list its sites.

        Neither needs the other (listing needs only reconciler.yaml), and on thousands of
        sites both take a while: the listing mostly waits for the platform's answers. A
        platform that reads by address (``Traits.reads_by_address``) lists once the files
        have said which addresses to look for. Once the listing is in, the dry runs of the
        files read from then on are asked meanwhile too, in full batches
        (``preflight_early``; see ``early_preflight``).
        ``sandbox``: the embedded sandbox's child, if the command started it early;
        ``config``: reconciler.yaml, if the command has read it already;
        ``platform``: the platform to use instead of the configured one (a test's);
        ``forked``: the configured platform, opened early in a child process by a command
        that only reads and dry-runs (``workspace.early_platform``); its caller closes it.
        """
        config = config or load_config(root)
        read: Future[DesiredState] = Future()
        early = EarlyPreflight(config.expert)
        with ExitStack() as stack:

            def connect() -> tuple[Platform, dict[str, ObservedSite]]:
                session = forked or stack.enter_context(
                    open_platform(root, config, environ, sandbox, platform=platform)
                )
                interest = None
                if session.traits.reads_by_address:
                    files = read.result()  # raises what reading the files raised
                    interest = interest_in(config.expert, files.sites.values(), files.people)
                observed = observe(session, interest)
                early.run(session, observed)
                return session, observed

            with ThreadPoolExecutor(1, thread_name_prefix="observe") as pool:
                connecting = pool.submit(connect)
                try:  # on error, the pool waits for connect, which stops waiting for it
                    state = load_repository(
                        root, config, on_site=early.add if preflight_early else None
                    )
                except BaseException as exc:
                    early.finish(abandoned=True)
                    read.set_exception(exc)
                    raise
                early.finish()
                read.set_result(state)
            session, observed = connecting.result()
            yield cls(state, session, observed, early.answers)

    def observed(self, *, refresh: bool = False) -> dict[str, ObservedSite]:
        if self._observed is None or refresh:
            state = self.state
            interest = interest_in(state.config.expert, state.sites.values(), state.people)
            self._observed = observe(self.platform, interest)
        return self._observed

    def plan(
        self,
        *,
        scope: Collection[str] | None = None,
        scope_note: str | None = None,
        kind: ScopeKind = ScopeKind.ALL,
        also: Collection[str] | None = None,
    ) -> Plan:
        """The plan for ``scope`` (every site file by default), preflight included.

        Beyond the listing of sites: the transfers the expert sent (one paginated
        request, only when a site file's site is not visible: a finished handover), and
        one dry run per ``transfer.start`` and ``package.purchase`` it may check
        (DESIGN.md section 5, preflight). A plan of a scope also lists the pending
        changes of every other site, which applying it will not make
        (``Plan.not_applied``; those are not dry-run), apart from those of the sites in
        ``also``, which the merge's apply makes too (``Plan.also_applied``). ``kind``
        says how the scope was chosen (the git note of an apply records it).
        """
        if scope is not None:
            # One read of the sent listing and one batch of dry runs for both plans: the
            # scope's changes are among every site's, and "Not applied" must not list a
            # change that preflight holds back.
            facts = self._facts(None)
            everything = self._build(None, facts)
            refused = self._preflight(to_dry_run(everything))
            plan = hold_back(self._build(scope, facts), refused)
            plan = with_rest(plan, hold_back(everything, refused), scope_note, also)
        else:
            plan = self._preflighted(scope)
        if scope is None and scope_note is not None:
            plan = plan.model_copy(update={"scope_note": scope_note, "not_applied": ()})
        if kind is not ScopeKind.ALL:
            plan = plan.model_copy(update={"scope_kind": kind})
        self._made_here.add(plan.fingerprint)
        return plan

    def _preflighted(self, scope: Collection[str] | None) -> Plan:
        plan = self._build(scope)
        return hold_back(plan, self._preflight(to_dry_run(plan)))

    def _facts(self, scope: Collection[str] | None) -> Facts:
        # Days left are counted by the platform's clock (else the Date of its answers),
        # never by this machine's unless the platform gives neither.
        now = self.platform.clock() or datetime.now(UTC)
        latest, every, listing = self._sent(scope, self.observed())
        self.facts = Facts(
            now=now,
            sent=latest,
            transfers=every,
            every_sent=None if listing is None else tuple(listing),
        )
        return self.facts

    def _build(self, scope: Collection[str] | None, facts: Facts | None = None) -> Plan:
        observed = self.observed()
        facts = facts or self._facts(scope)
        return build_plan(
            self.state.config.expert,
            self.state.sites,
            observed,
            scope=scope,
            capabilities=self.platform.capabilities,
            facts=facts,
            traits=self.platform.traits,
        )

    def _sent(
        self, scope: Collection[str] | None, observed: Mapping[str, ObservedSite]
    ) -> tuple[
        dict[str, TransferRecord], dict[str, list[TransferRecord]], list[TransferRecord] | None
    ]:
        """The transfers the expert sent, from one paginated listing: the latest of each
        site file's site it cannot see (a finished handover), and every one of each site
        a file hands over (the memory per recipient, DESIGN.md section 5). Read only
        when some site needs it."""
        expert, sites = self.state.config.expert, self.state.sites
        files = sites.keys() if scope is None else scope
        missing = {site_id for site_id in files if site_id not in observed}
        if scope is None:  # every file: no look-up of each (10,000 a plan)
            handed = {site_id for site_id, want in sites.items() if want.owner != expert}
        else:
            handed = {
                site_id
                for site_id in files
                if (want := sites.get(site_id)) is not None and want.owner != expert
            }
        if Capability.SENT_TRANSFERS not in self.platform.capabilities:
            return {}, {}, None  # no transfer memory: the plan says so once
        if not (missing or handed or self.every_sent):
            return {}, {}, None
        latest: dict[str, TransferRecord] = {}
        every: dict[str, list[TransferRecord]] = {}
        listing: list[TransferRecord] = []
        try:
            for transfer in self.platform.sent_transfers():  # newest first
                listing.append(transfer)
                if transfer.site_id in missing and transfer.site_id not in latest:
                    latest[transfer.site_id] = transfer
                if transfer.site_id in handed:
                    every.setdefault(transfer.site_id, []).append(transfer)
        except PlatformError as exc:
            # The site listing's last transfer still remembers the latest refusal.
            log.warning("could not list the transfers sent: %s", exc.message)
            return {}, {}, None
        return latest, every, listing

    def _preflight(self, changes: Sequence[Change]) -> dict[ChangeKey, str]:
        """Dry-run the changes as one batch; the platform's reason for each refusal.

        A change the platform could not be asked about is left to apply, which checks it.
        """
        if not changes or Capability.DRY_RUN not in self.platform.capabilities:
            return {}  # no preflight: the plan says so once
        observed = self.observed()
        versions = {c.site: observed[c.site].version for c in changes if c.site in observed}
        asked = dry_runs(changes, versions)
        early, self._early = self._early, {}  # answers of this session's listing only
        try:
            rest = [one for one in asked if one not in early]
            fresh = self.platform.dry_run(rest) if rest else []
            answered = iter(fresh)
            answers = [early[one] if one in early else next(answered) for one in asked]
        except PlatformError as exc:
            log.warning("could not dry-run %d changes: %s", len(changes), exc.message)
            return {}
        found = findings(changes, answers)
        for change, why in found.unasked:
            log.warning("%s: could not dry-run %s: %s", change.site, change.action, why)
        return found.refused

    def check_policy(self, plan: Plan, *, force: bool = False) -> None:
        """Refuse ``plan`` when it does more than reconciler.yaml's policy allows.

        The one place the policy is checked: a command calls it once it has shown the
        plan, before asking or applying anything.
        """
        check_policy(plan, self.state.config.policy, force=force)

    def apply(
        self,
        plan: Plan,
        *,
        parallelism: int,
        gate: Gate | None = None,
        on_result: Callable[[ChangeResult], None] | None = None,
    ) -> ApplyReport:
        """Apply ``plan`` after checking it is for this expert and still current.

        The policy is the caller's to check first (``check_policy``), before it asks.

        A saved plan is checked against a fresh listing of the platform. A plan made in
        this session needs no second listing: every write is conditional (If-Match) on
        the version that plan saw, so a site changed meanwhile fails instead.
        """
        if plan.expert != self.state.config.expert:
            raise PlanRefused(
                f"the plan was made for {plan.expert}, but reconciler.yaml says the expert "
                f"is {self.state.config.expert}"
            )
        if plan.fingerprint not in self._made_here:
            check_fresh(plan, self.observed(refresh=True))
            # Applied as reviewed only if the files and the platform still produce it:
            # an edited plan file (a change appended, the fingerprint left) applies nothing.
            check_derived(plan, self._preflighted(plan.scope))
        from reconciler.reconcile.apply import Applier

        applier = Applier(self.platform, parallelism=parallelism, gate=gate, on_result=on_result)
        return applier.apply(plan)
