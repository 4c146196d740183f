"""The composite action's output, as the runner would see it: the command's output is
data in the log (between ::stop-commands:: and its token), only reconciler's own
annotations pass, with paths from the repository root; the job summary's fence cannot
be closed by the content; the apply report says what was applied, held back and failed.

The action's steps run here as bash scripts, with a stand-in `reconciler` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
ACTION_DIR = ROOT / ".github" / "actions" / "reconciler"
RELAY = ACTION_DIR / "relay.py"
FORGED = "::add-mask::studio-token\n::warning title=forged::from a site's name\n"


def relay(tmp_path: Path, out: str, err: str = "", *args: str, cwd: Path | None = None) -> str:
    (tmp_path / "out").write_text(out, encoding="utf-8")
    (tmp_path / "err").write_text(err, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, RELAY, "--stdout", tmp_path / "out", "--stderr", tmp_path / "err", *args],
        cwd=cwd or tmp_path,
        env={
            **os.environ,
            "GITHUB_WORKSPACE": str(tmp_path),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def data_blocks(log: str) -> list[tuple[str, list[str]]]:
    """Each ::stop-commands:: block of the log: its token and the lines inside."""
    blocks, lines = [], log.splitlines()
    index = 0
    while index < len(lines):
        start = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[index])
        if start is None:
            index += 1
            continue
        end = lines.index(f"::{start.group(1)}::", index + 1)
        blocks.append((start.group(1), lines[index + 1 : end]))
        index = end + 1
    return blocks


def commands_obeyed(log: str) -> list[str]:
    """The lines the runner would treat as workflow commands."""
    inside: set[int] = set()
    lines = log.splitlines()
    for number, line in enumerate(lines):
        if (start := re.fullmatch(r"::stop-commands::(\w+)", line)) is not None:
            end = lines.index(f"::{start.group(1)}::", number + 1)
            inside.update(range(number + 1, end))
    return [
        line
        for number, line in enumerate(lines)
        if line.startswith("::")
        and number not in inside
        and "stop-commands" not in line
        and not re.fullmatch(r"::[0-9a-f]{32}::", line)
    ]


def test_output_is_data_between_stop_commands_and_a_fresh_token(tmp_path: Path) -> None:
    first = relay(tmp_path, FORGED, "warning: " + FORGED)
    second = relay(tmp_path, FORGED)

    ((token, lines),) = data_blocks(first)
    assert lines == [*("warning: " + FORGED).splitlines(), *FORGED.splitlines()]
    assert commands_obeyed(first) == []
    assert data_blocks(second)[0][0] != token


def test_only_reconcilers_annotations_pass_with_paths_from_the_repository_root(
    tmp_path: Path,
) -> None:
    (tmp_path / "clients").mkdir()
    out = (
        "::error file=sites/a.yaml,line=3,col=1::owner: not an e-mail\n"
        "::warning file=sites/b%2Cc.yaml,line=1,col=1::tom has left\n"
        + FORGED
        + "2 problems in 2 site files\n"
    )

    log = relay(tmp_path, out, "", "--annotations", cwd=tmp_path / "clients")

    assert commands_obeyed(log) == [
        "::error file=clients/sites/a.yaml,line=3,col=1::owner: not an e-mail",
        "::warning file=clients/sites/b%2Cc.yaml,line=1,col=1::tom has left",
    ]
    assert data_blocks(log)[0][1] == [*FORGED.splitlines(), "2 problems in 2 site files"]


def test_at_the_repository_root_annotations_are_unchanged(tmp_path: Path) -> None:
    log = relay(tmp_path, "::error file=sites/a.yaml,line=3,col=1::bad\n", "", "--annotations")

    assert commands_obeyed(log) == ["::error file=sites/a.yaml,line=3,col=1::bad"]


def test_the_summary_fence_is_longer_than_any_backtick_run_in_the_content(
    tmp_path: Path,
) -> None:
    text = "error: `x`\n```\n# Plan: no changes\n````\n::warning::x\n"

    relay(tmp_path, text, "", "--summary", "fenced", "--summary-title", "The files # are invalid")

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    lines = summary.splitlines()
    assert lines[0] == r"### The files \# are invalid"
    assert lines[2] == "`````"
    assert lines[-1] == "`````"
    assert lines[3:-1] == text.splitlines()  # inside the fence, none of it is Markdown


REPORT: dict[str, Any] = {
    "ok": False,
    "results": [
        {
            "site": "bistro-verde",
            "action": "collaborator.add",
            "email": "marco@bistro.example",
            "role": "viewer",
            "outcome": "done",
            "reason": None,
        },
        {
            "site": "acme-bakery",
            "action": "transfer.start",
            "to": "anna@acme.example",
            "outcome": "skipped",
            "reason": "not approved\n# Plan: no changes\n::add-mask::x <img src=x> | a |",
        },
        {
            "site": "harbor-yoga",
            "action": "collaborator.remove",
            "email": "eve@x.example",
            "outcome": "failed",
            "reason": "503 from the platform",
        },
    ],
}


def test_the_apply_report_says_what_was_applied_held_back_and_failed(tmp_path: Path) -> None:
    log = relay(
        tmp_path,
        json.dumps(REPORT),
        "plan text\n",
        "--summary",
        "apply-report",
        "--summary-title",
        "reconciler apply",
        "--summary-file",
        str(tmp_path / "comment.md"),
    )

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary == (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert summary.splitlines()[:3] == [
        "### reconciler apply",
        "",
        "Applied: 1, held back: 1, failed: 1.",
    ]
    sections = re.findall(r"^\*\*(\w[\w ]*)\*\*$", summary, re.M)
    assert sections == ["Applied", "Held back", "Failed"]
    held = next(line for line in summary.splitlines() if line.startswith("- acme"))
    assert "not approved" in held
    assert re.search(r"(?<!\\)[<|#@`]", summary.split("\n", 2)[2]) is None  # all escaped
    assert not any(line.startswith(("#", "::", "|")) for line in summary.splitlines()[1:])
    assert commands_obeyed(log) == [
        "::warning title=reconciler apply held back a handover::acme-bakery: not approved%0A"
        "# Plan: no changes%0A::add-mask::x <img src=x> | a |"
    ]


@pytest.mark.parametrize(
    "out",
    ["", json.dumps({"format_version": 1, "ok": True, "results": []})],
    ids=["nothing-printed", "a-report-with-no-results"],
)
def test_an_apply_with_nothing_to_do_says_so(tmp_path: Path, out: str) -> None:
    relay(tmp_path, out, "", "--summary", "apply-report")

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary == "Nothing to apply: the platform matches the applied site files.\n"


def test_an_apply_that_failed_first_is_said_from_its_error_document(tmp_path: Path) -> None:
    error = {"format_version": 1, "error": {"message": "plan refused", "problems": []}}
    relay(tmp_path, json.dumps(error), "error: plan refused\n", "--summary", "apply-report")

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("**The apply failed before applying anything:**\n\n```")
    assert "error: plan refused" in summary


# --- the action's run step, in bash, with a stand-in reconciler ------------------------


@pytest.fixture
def runner(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    fake = bin_dir / "reconciler"
    fake.write_text(
        "#!/bin/bash\n"
        'echo "args: $*"\n'
        "printf '::add-mask::studio-token\\n'\n"
        "echo 'warning: ::error::forged' >&2\n"
        "exit 2\n"
    )
    fake.chmod(0o755)
    return tmp_path


def run_step(runner: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], str]:
    action = YAML(typ="safe").load((ACTION_DIR / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    output = runner / "output.txt"
    env = {
        "PATH": f"{runner / 'bin'}:/usr/bin:/bin",
        "GITHUB_ACTION_PATH": str(ACTION_DIR),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "GITHUB_WORKSPACE": str(runner),
        "RUNNER_TEMP": str(runner),
        "COMMAND": "plan",
        "ARGS": "--format markdown",
        "ALLOWED": "0",
        "ANNOTATIONS": "false",
        "SUMMARY": "none",
        "TITLE": "",
        **inputs,
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=runner,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done, output.read_text(encoding="utf-8")


def test_the_run_step_prints_the_output_as_data_and_fails_on_an_unexpected_code(
    runner: Path,
) -> None:
    done, outputs = run_step(runner)

    assert done.returncode == 2
    assert commands_obeyed(done.stdout) == ["::error title=reconciler plan::exited with code 2"]
    assert data_blocks(done.stdout)[0][1] == [
        "warning: ::error::forged",
        "args: plan --format markdown",
        "::add-mask::studio-token",
    ]
    assert "exit-code=2" in outputs.splitlines()
    assert done.stderr == ""


def test_the_run_step_allows_the_codes_it_is_told_and_writes_the_summary(runner: Path) -> None:
    done, outputs = run_step(runner, ALLOWED="0, 2", SUMMARY="markdown")

    assert done.returncode == 0
    assert commands_obeyed(done.stdout) == []
    summary_file = dict(line.split("=", 1) for line in outputs.splitlines())["summary-file"]
    assert Path(summary_file).read_text(encoding="utf-8").startswith("args: plan --format markdown")
