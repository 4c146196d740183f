"""Executes a plan: sites in parallel, the changes of a site in order.

A site stops at its first failure (later steps may depend on it: a purchase after a
transfer decision, a removal after a grant); the other sites go on. Every write carries
``If-Match`` with the version the plan saw (then the version the previous write
returned) and an idempotency key derived from the plan, so a retried or re-run write is
never carried out twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.platform.base import SiteWriter
from reconciler.reconcile.changes import (
    BillingContactSet,
    Change,
    CollaboratorAdd,
    CollaboratorRemove,
    CollaboratorUpdate,
    PackagePurchase,
    TransferCancel,
    TransferStart,
)
from reconciler.reconcile.plan import Plan

DEFAULT_PARALLELISM = 8


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    reason: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    results: tuple[ChangeResult, ...]

    def of(self, outcome: Outcome) -> list[ChangeResult]:
        return [result for result in self.results if result.outcome is outcome]

    @property
    def ok(self) -> bool:
        return not self.of(Outcome.FAILED)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "results": [
                {**r.change.model_dump(mode="json"), "outcome": r.outcome.value, "reason": r.reason}
                for r in self.results
            ],
        }


Gate = Callable[[Change], str | None]
"""Returns why a change must be skipped (e.g. a handover nobody approved), or None."""


class Applier:
    """Applies one plan through a ``SiteWriter``."""

    def __init__(
        self,
        writer: SiteWriter,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        gate: Gate | None = None,
        on_result: Callable[[ChangeResult], None] | None = None,
    ) -> None:
        self.writer = writer
        self.parallelism = max(1, parallelism)
        self.gate = gate
        self.on_result = on_result
        # Keys are unique to this run: a retry within the run replays the platform's first
        # answer, a later run asks afresh (a refusal then may be an acceptance now).
        self.run_id = uuid.uuid4().hex

    def apply(self, plan: Plan) -> ApplyReport:
        by_site = plan.changes_by_site()
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply") as pool:
            futures = [
                pool.submit(self._apply_site, plan, site, changes)
                for site, changes in by_site.items()
            ]
            results = [result for future in futures for result in future.result()]
        order = {id(change): index for index, change in enumerate(plan.changes)}
        return ApplyReport(tuple(sorted(results, key=lambda r: order[id(r.change)])))

    def _apply_site(self, plan: Plan, site: str, changes: Sequence[Change]) -> list[ChangeResult]:
        version = plan.versions.get(site)
        skips = self._gated(changes)
        results: list[ChangeResult] = []
        failed: str | None = None
        for index, change in enumerate(changes):
            if failed is not None:
                result = ChangeResult(change, Outcome.SKIPPED, failed)
            elif skips[index] is not None:
                result = ChangeResult(change, Outcome.SKIPPED, skips[index])
            else:
                key = idempotency_key(self.run_id, plan, index, change)
                try:
                    version = self._write(change, version, key)
                    result = ChangeResult(change, Outcome.DONE)
                except ReconcilerError as exc:
                    failed = f"not attempted: {change.action.value} failed before it"
                    result = ChangeResult(change, Outcome.FAILED, exc.message)
                except Exception as exc:  # noqa: BLE001 - a bug must not lose the others' report
                    failed = f"not attempted: {change.action.value} failed before it"
                    result = ChangeResult(
                        change, Outcome.FAILED, f"internal error: {type(exc).__name__}: {exc}"
                    )
            results.append(result)
            if self.on_result is not None:
                self.on_result(result)
        return results

    def _gated(self, changes: Sequence[Change]) -> list[str | None]:
        """Why each change is skipped (None: it goes ahead).

        A handover that may not start keeps the site's pending transfer too: cancelling it
        is only the first half of replacing it.
        """
        if self.gate is None:
            return [None] * len(changes)
        skips = [self.gate(change) for change in changes]
        held = next(
            (why for c, why in zip(changes, skips, strict=True) if c.is_handover and why), None
        )
        if held is not None:
            skips = [
                held if isinstance(c, TransferCancel) and why is None else why
                for c, why in zip(changes, skips, strict=True)
            ]
        return skips

    def _write(self, change: Change, version: int | None, key: str) -> int | None:
        site, w = change.site, self.writer
        match change:
            case CollaboratorAdd() | CollaboratorUpdate():
                written = w.put_collaborator(
                    site, change.email, change.role, if_match=version, idempotency_key=key
                )
            case CollaboratorRemove():
                written = w.delete_collaborator(
                    site, change.email, if_match=version, idempotency_key=key
                )
            case BillingContactSet():
                written = w.set_billing_contact(
                    site, change.email, if_match=version, idempotency_key=key
                )
            case TransferStart():
                written = w.start_transfer(
                    site, change.to, change.stay_as_collaborator, if_match=version,
                    idempotency_key=key,
                )  # fmt: skip
            case TransferCancel():
                written = w.cancel_transfer(
                    site, change.transfer_id, if_match=version, idempotency_key=key
                )
            case PackagePurchase():
                written = w.purchase(site, change.package, if_match=version, idempotency_key=key)
        return written.version


def idempotency_key(run_id: str, plan: Plan, index: int, change: Change) -> str:
    """One key per change of one run: the client's retries of it share the key."""
    material = json.dumps(
        [run_id, plan.fingerprint, change.site, index, change.model_dump(mode="json")],
        sort_keys=True,
    )
    return "reconciler-" + hashlib.sha256(material.encode()).hexdigest()[:40]
