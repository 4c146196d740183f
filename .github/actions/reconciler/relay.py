"""Relay one reconciler command's output to the GitHub Actions log and job summary.

Run by the composite action with the runner's Python (standard library only), after
the command wrote its standard output and error to files:

- Into the log, the output is data, never workflow commands: it is printed between
  ``::stop-commands::<random token>`` and ``::<token>::``, so a line such as
  ``::add-mask::`` or ``::warning::`` in a site's name or a platform's refusal is shown,
  not obeyed. With ``--annotations`` (``validate --format github``), the annotation
  lines reconciler wrote itself (error, warning, notice) are passed on, with their
  ``file=`` made relative to the repository root when the command ran in a subfolder.
- Into the job summary (``--summary``): ``markdown`` appends the output as it is (the
  tool's own Markdown, with platform and file text escaped); ``fenced`` appends output
  and error in a code fence longer than any run of backticks in them, so the content
  cannot close it; ``apply-report`` turns ``apply --format json`` into what was
  applied, held back (and why) and failed, and each held-back handover becomes a
  ``::warning``. The summary's Markdown is also written to ``--summary-file``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

# reconciler's own annotations: a kind that only annotates (never a mask, an output or
# an environment change) and a file, as render/problems.py writes them.
ANNOTATION = re.compile(r"^::(error|warning|notice) (file=[^:]*)::(.*)$")
# Each character that can start inline Markdown (emphasis, code, links, images, HTML,
# entities, strike-through, table cells) or a GitHub mention or issue link.
SPECIAL = re.compile(r"([\\`*_\[\]<>&~|!@#])")
HANDOVER = "transfer.start"
RESULT_KEYS = frozenset({"site", "action", "outcome", "reason", "details"})


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    out = read(options.stdout)
    err = read(options.stderr)
    passed, shown = split_annotations(out) if options.annotations else ([], out)
    prefix = root_prefix(Path.cwd(), os.environ.get("GITHUB_WORKSPACE"))
    report = parse_report(out) if options.summary == "apply-report" else None
    print_data(err + shown)
    for line in passed:
        sys.stdout.write(with_prefix(line, prefix) + "\n")
    markdown = summary(options, out, err, report)
    if report is not None:
        for line in held_back_warnings(report):
            sys.stdout.write(line + "\n")
    if markdown:
        append(os.environ.get("GITHUB_STEP_SUMMARY"), markdown)
        if options.summary_file:
            Path(options.summary_file).write_text(markdown, encoding="utf-8")
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", required=True, type=Path)
    parser.add_argument("--stderr", required=True, type=Path)
    parser.add_argument("--annotations", action="store_true")
    parser.add_argument(
        "--summary", choices=["none", "markdown", "fenced", "apply-report"], default="none"
    )
    parser.add_argument("--summary-title", default="")
    parser.add_argument("--summary-file", default="")
    return parser.parse_args(argv)


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def print_data(text: str) -> None:
    """Print text into the log with workflow commands off around it."""
    if not text:
        return
    token = secrets.token_hex(16)  # unguessable: the text cannot turn commands back on
    sys.stdout.write(f"::stop-commands::{token}\n")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.write(f"::{token}::\n")
    sys.stdout.flush()


def split_annotations(text: str) -> tuple[list[str], str]:
    """The annotation commands (passed on) and the rest of the text (shown as data)."""
    passed, shown = [], []
    for line in text.splitlines(keepends=True):
        (passed if ANNOTATION.match(line.rstrip("\r\n")) else shown).append(line)
    return [line.rstrip("\r\n") for line in passed], "".join(shown)


def root_prefix(cwd: Path, workspace: str | None) -> str:
    """The command's folder relative to the repository root ('' at the root or outside)."""
    if not workspace:
        return ""
    try:
        relative = cwd.resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return ""
    return "" if str(relative) == "." else relative.as_posix()


def with_prefix(line: str, prefix: str) -> str:
    """An annotation whose ``file=`` is relative to the repository root, so that GitHub
    shows it on the pull request's diff."""
    match = ANNOTATION.match(line)
    if not prefix or match is None or match.group(2) is None:
        return line
    escaped = escape_property(prefix)
    properties = re.sub(r"(^|,)file=", rf"\g<1>file={escaped}/", match.group(2), count=1)
    return f"::{match.group(1)} {properties}::{match.group(3)}"


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def fence(text: str) -> str:
    """A code block that no run of backticks in ``text`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}\n{text.rstrip()}\n{marks}\n"


def inline(text: str) -> str:
    """Platform or file text as one line of Markdown that cannot open anything: no
    heading, list, table cell, link, HTML tag, mention or code span of its own."""
    return SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def summary(options: argparse.Namespace, out: str, err: str, report: Any) -> str:
    title = f"### {inline(options.summary_title)}\n\n" if options.summary_title else ""
    if options.summary == "markdown":
        return title + out if out.strip() else ""
    if options.summary == "fenced":
        return title + fence(err + out)
    if options.summary == "apply-report":
        return title + report_markdown(report, err)
    return ""


NOTHING_TO_APPLY = "Nothing to apply: the platform matches the applied site files.\n"


def parse_report(out: str) -> dict[str, Any] | None:
    """``apply --format json``; None when it printed nothing or no JSON."""
    try:
        document = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def grouped(report: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {"done": [], "skipped": [], "failed": []}
    for result in (report or {}).get("results", []):
        if isinstance(result, dict):
            groups.setdefault(str(result.get("outcome")), []).append(result)
    return groups


def report_markdown(report: dict[str, Any] | None, err: str) -> str:
    # An error is a JSON document too ({"error": ...}), and nothing to apply a report
    # with no results; an older reconciler printed nothing for either.
    if report is None or "error" in report:
        if err.strip():
            return "**The apply failed before applying anything:**\n\n" + fence(err)
        if report is not None:
            message = (
                str(report["error"].get("message", "")) if isinstance(report["error"], dict) else ""
            )
            return "**The apply failed before applying anything:**\n\n" + fence(message)
        return NOTHING_TO_APPLY
    if not report.get("results"):
        return NOTHING_TO_APPLY
    groups = grouped(report)
    counts = (len(groups["done"]), len(groups["skipped"]), len(groups["failed"]))
    lines = ["Applied: {}, held back: {}, failed: {}.".format(*counts), ""]
    for key, heading in (("done", "Applied"), ("skipped", "Held back"), ("failed", "Failed")):
        if groups[key]:
            lines += [f"**{heading}**", "", *(item(r) for r in groups[key]), ""]
    return "\n".join(lines)


def item(result: dict[str, Any]) -> str:
    text = f"- {inline(result.get('site', '?'))}: {inline(result.get('action', '?'))}"
    details = result.get("details")
    if not isinstance(details, dict):
        details = {k: v for k, v in result.items() if k not in RESULT_KEYS and v is not None}
    if details:
        text += " (" + inline(", ".join(f"{k}: {v}" for k, v in details.items())) + ")"
    if result.get("reason"):
        text += f" \N{EM DASH} {inline(result['reason'])}"
    return text


def held_back_warnings(report: dict[str, Any]) -> list[str]:
    return [
        "::warning title=reconciler apply held back a handover::"
        + escape_data(f"{r.get('site', '?')}: {r.get('reason') or 'held back'}")
        for r in grouped(report)["skipped"]
        if r.get("action") == HANDOVER
    ]


def append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as summary_file:
            summary_file.write(text if text.endswith("\n") else text + "\n")


if __name__ == "__main__":
    sys.exit(main())
