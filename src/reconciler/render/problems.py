"""``reconciler validate`` output: text, JSON and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from reconciler.desired.problems import Problem, Severity
from reconciler.render import escape

GITHUB_ANNOTATIONS_PER_TYPE = 10


def summary(problems: Sequence[Problem], site_count: int) -> str:
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors
    if not errors:
        valid = f"{site_count} site file{'s' if site_count != 1 else ''} valid"
        return valid + (f", {_count(warnings, 'warning')}" if warnings else "")
    files = len({p.location.file for p in problems if p.severity is Severity.ERROR})
    text = f"{_count(errors, 'error')} in {_count(files, 'file')}"
    return text + (f", {_count(warnings, 'warning')}" if warnings else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def as_text(problems: Sequence[Problem], site_count: int) -> str:
    lines = [escape.text(str(problem)) for problem in problems]
    lines.append(summary(problems, site_count))
    return "\n".join(lines)


FORMAT_VERSION = 1  # of every JSON document a command prints (the plan's too)


def as_json(problems: Sequence[Problem], site_count: int) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "valid": not any(p.severity is Severity.ERROR for p in problems),
        "sites": site_count,
        "problems": [problem_as_json(p) for p in problems],
    }
    return escape.json_text(json.dumps(document, indent=2))


def problem_as_json(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.location.file,
        "line": problem.location.line,
        "column": problem.location.column,
        "severity": problem.severity.value,
        "message": problem.message,
    }


def error_as_json(
    message: str, problems: Sequence[Problem] = (), extra: Mapping[str, object] | None = None
) -> str:
    """A command's error under ``--format json``: the one document it prints (exit 1).

    ``extra``: what the command had made before it was refused (a plan over a policy
    limit is shown with the refusal)."""
    document = {
        "format_version": FORMAT_VERSION,
        "error": {"message": message, "problems": [problem_as_json(p) for p in problems]},
        **(extra or {}),
    }
    return escape.json_text(json.dumps(document, indent=2))


def as_github(problems: Sequence[Problem], site_count: int) -> str:
    """Workflow commands; GitHub shows at most 10 annotations of a type per step."""
    lines = []
    shown = {Severity.ERROR: 0, Severity.WARNING: 0}
    hidden: list[Problem] = []
    for problem in problems:
        if shown[problem.severity] >= GITHUB_ANNOTATIONS_PER_TYPE:
            hidden.append(problem)
            continue
        shown[problem.severity] += 1
        lines.append(annotation(problem))
    text = summary(problems, site_count)
    if hidden:
        text += f" ({len(hidden)} not annotated, listed below)"
    lines.append(text)
    lines.extend(escape.text(str(problem)) for problem in hidden)
    return "\n".join(lines)


def annotation(problem: Problem) -> str:
    """A workflow command the tool writes itself; the file and message are escaped as
    GitHub's toolkit does, so neither can end the command or start another line."""
    loc = problem.location
    properties = f"file={escape.command_property(loc.file)},line={loc.line},col={loc.column}"
    return f"::{problem.severity.value} {properties}::{escape.command_data(problem.message)}"
