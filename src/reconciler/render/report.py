"""The outcome of ``apply``: a line per change and a summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from reconciler.reconcile.apply import ApplyReport, ChangeResult, Outcome
from reconciler.reconcile.changes import Note, NoteKind
from reconciler.reconcile.plan import Plan
from reconciler.render import escape
from reconciler.render.plan import describe

_MARK = {Outcome.DONE: "done", Outcome.FAILED: "FAILED", Outcome.SKIPPED: "skipped"}
_COLOUR = {Outcome.DONE: "green", Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}


def result_line(result: ChangeResult, *, colour: bool = False) -> str:
    """One line, whatever the platform's reason holds (the git note keeps one a change)."""
    change = result.change
    text = f"{change.site}: {change.action.value} {describe(change)}"
    if result.reason:
        text += f" - {result.reason}"
    text = f"{_MARK[result.outcome]:<7} {escape.text(text)}"
    return click.style(text, fg=_COLOUR[result.outcome]) if colour else text


def summary(report: ApplyReport) -> str:
    done, failed, skipped = (len(report.of(o)) for o in Outcome)
    return f"Apply: {done} done, {failed} failed, {skipped} skipped."


def as_text(report: ApplyReport, *, colour: bool = False) -> str:
    lines = [result_line(result, colour=colour) for result in report.results]
    return "\n".join([*lines, summary(report)])


def as_note(report: ApplyReport, plan: Plan, when: datetime | None = None) -> str:
    """The git note recorded on the applied commit."""
    moment = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"reconciler apply at {moment}", f"plan {plan.fingerprint}", summary(report)]
    lines += [result_line(result) for result in report.results]
    return "\n".join(lines)


def as_json(report: ApplyReport, plan: Plan | None = None) -> str:
    """The report as one JSON document, also when there was nothing to apply.

    After the results of the changes: what the site files ask that the plan held back
    before applying (its ``blocked`` notes: the platform would refuse it, the owner must
    act, the cap), each as a result with ``"outcome": "skipped"`` and
    ``"details": {"held": "at plan time"}``, so that the apply's summary lists them with
    the changes held back by the approval gate."""
    document = {"format_version": 1, **report.to_json()}
    if plan is not None:
        held = [_held_at_plan_time(note) for note in plan.notes_of(NoteKind.BLOCKED)]
        document["results"] = [*document["results"], *held]
    return escape.json_text(json.dumps(document, indent=2))


def _held_at_plan_time(note: Note) -> dict[str, object]:
    return {
        "site": note.site,
        "action": str(note.data.get("action") or note.code or "blocked"),
        "details": {"held": "at plan time"},
        "outcome": "skipped",
        "reason": note.message,
        "code": note.code,
    }
