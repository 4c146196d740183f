"""The outcome of ``apply``: a line per change and a summary."""

from __future__ import annotations

import json

import click

from reconciler.apply import ApplyReport, ChangeResult, Outcome
from reconciler.render.plan import describe

_MARK = {Outcome.DONE: "done", Outcome.FAILED: "FAILED", Outcome.SKIPPED: "skipped"}
_COLOUR = {Outcome.DONE: "green", Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}


def result_line(result: ChangeResult, *, colour: bool = False) -> str:
    change = result.change
    text = f"{_MARK[result.outcome]:<7} {change.site}: {change.action.value} {describe(change)}"
    if result.reason:
        text += f" - {result.reason}"
    return click.style(text, fg=_COLOUR[result.outcome]) if colour else text


def summary(report: ApplyReport) -> str:
    done, failed, skipped = (len(report.of(o)) for o in Outcome)
    return f"Apply: {done} done, {failed} failed, {skipped} skipped."


def as_text(report: ApplyReport, *, colour: bool = False) -> str:
    lines = [result_line(result, colour=colour) for result in report.results]
    return "\n".join([*lines, summary(report)])


def as_json(report: ApplyReport) -> str:
    return json.dumps(report.to_json(), indent=2)
