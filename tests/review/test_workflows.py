"""The GitHub workflows and the composite action, read as files and, where they run
shell, run: pins, tokens, branch guards, the sticky comment, the push's before commit."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTION = ROOT / ".github" / "actions" / "reconciler" / "action.yml"
PINS = {  # ../shared/ACTIONS-PINS.md: the commit of each release tag we use
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def steps_of(workflow: Any) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment() -> None:
    files = [*sorted(WORKFLOWS.glob("*.yml")), ACTION]
    uses = [
        (path.name, match)
        for path in files
        for match in re.finditer(
            r"^\s*(?:- )?uses:\s*(\S+)(.*)$", path.read_text(encoding="utf-8"), re.M
        )
    ]
    remote = [(name, m) for name, m in uses if not m.group(1).startswith("./")]
    assert remote, "the workflows use GitHub's actions"
    for name, match in remote:
        action, _, ref = match.group(1).partition("@")
        sha, version = PINS[action]
        assert (ref, match.group(2).strip()) == (sha, f"# {version}"), f"{name}: {match.group(0)}"


def test_the_action_installs_from_its_own_checkout_by_default() -> None:
    action = load(ACTION)
    assert action["inputs"]["install"]["default"] == ""
    install = next(s for s in action["runs"]["steps"] if s["name"] == "Install reconciler")
    assert '"${INSTALL:-$GITHUB_ACTION_PATH/../../..}"' in install["run"]
    assert (ROOT / ".github/actions/reconciler/../../../pyproject.toml").is_file()
    for path in WORKFLOWS.glob("*.yml"):  # no workflow names a package to install
        assert all("install" not in s.get("with", {}) for s in steps_of(load(path))), path


def test_pull_requests_plan_with_the_read_token_and_skip_forks() -> None:
    workflow = load(WORKFLOWS / "pull-request.yml")
    text = (WORKFLOWS / "pull-request.yml").read_text(encoding="utf-8")
    assert "secrets.PLATFORM_TOKEN" not in text
    plan = next(s for s in steps_of(workflow) if s.get("id") == "plan")
    assert plan["env"] == {"PLATFORM_TOKEN": "${{ secrets.PLATFORM_READ_TOKEN }}"}
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in plan["if"]
    comment = next(s for s in steps_of(workflow) if s.get("name", "").startswith("Comment"))
    assert same_repo in comment["if"]
    assert "c.user.login === bot" in comment["with"]["script"]
    assert "error.status !== 403" in comment["with"]["script"]
    assert workflow["env"]["BOT_LOGIN"] == "github-actions[bot]"


def test_only_main_in_the_platform_environment_gets_the_write_token() -> None:
    workflow = load(WORKFLOWS / "apply.yml")
    jobs = workflow["jobs"]
    for name in ("apply-merge", "apply-all"):
        assert jobs[name]["environment"] == "platform"
    assert "github.ref == 'refs/heads/main'" in jobs["apply-all"]["if"]
    assert "github.ref != 'refs/heads/main'" in jobs["refuse-other-branches"]["if"]
    for path in (WORKFLOWS / "drift.yml", WORKFLOWS / "pull-request.yml"):
        assert "secrets.PLATFORM_TOKEN" not in path.read_text(encoding="utf-8"), path
    apply_step = next(s for s in jobs["apply-merge"]["steps"] if s.get("uses", "").startswith("./"))
    assert "--changed-since ${{ github.event.before }}" in apply_step["with"]["args"]
    names = [s.get("name", "") for s in jobs["apply-all"]["steps"]]
    assert names.index("Show the plan in the job summary") < names.index("Apply exactly that plan")


# --- the push's before commit, by running the workflow's own shell step ----------------


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    root = tmp_path / "clone"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "commit", "--quiet", "--allow-empty", "-m", "one")
    git(root, "commit", "--quiet", "--allow-empty", "-m", "two")
    return root


def find_before(clone: Path, before: str, forced: str = "false") -> tuple[str, str]:
    job = load(WORKFLOWS / "apply.yml")["jobs"]["apply-merge"]
    script = next(s for s in job["steps"] if s.get("id") == "before")["run"]
    output, summary = clone / "output.txt", clone / "summary.md"
    env = {
        **os.environ,
        "BEFORE": before,
        "FORCED": forced,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    summary_text = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return output.read_text(encoding="utf-8").strip(), summary_text


def test_a_normal_push_applies_since_its_before_commit(clone: Path) -> None:
    before = git(clone, "rev-parse", "HEAD~1")

    assert find_before(clone, before) == ("usable=true", "")


@pytest.mark.parametrize(
    ("before", "forced", "reason"),
    [
        ("0" * 40, "false", "this is the first push of main (no before commit)"),
        ("1234567890" * 4, "true", "the before commit 123456789012 is not in main's history"),
    ],
)
def test_a_push_without_a_usable_before_commit_is_skipped_with_why(
    clone: Path, before: str, forced: str, reason: str
) -> None:
    output, summary = find_before(clone, before, forced)

    assert output == "usable=false"
    assert summary.startswith(f"### Apply skipped: {reason}")
    assert "Apply everything with a manual run of this workflow from main" in summary


def test_a_force_push_that_kept_the_old_commit_is_skipped(clone: Path) -> None:
    old = git(clone, "rev-parse", "HEAD")
    git(clone, "reset", "--quiet", "--hard", "HEAD~1")
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "rewritten")

    output, summary = find_before(clone, old, "true")

    assert output == "usable=false"
    assert "the push rewrote main's history (a force push)" in summary
