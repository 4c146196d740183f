"""The GitHub workflows and the composite action, read as files and, where they run
shell, run: pins, tokens, branch guards, the sticky comment, the push's before commit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
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


# --- the lock the action installs from -------------------------------------------------

LOCK = ACTION.parent / "requirements.txt"


def locked() -> dict[str, tuple[str, list[str]]]:
    """The lock's pins: name -> (version, hashes)."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.partition("#")[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        name, _, version = requirement.partition("==")
        assert version, f"not pinned to one version: {line}"
        hashes = [o.removeprefix("--hash=sha256:") for o in options]
        assert hashes, f"no hash: {line}"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), line
        pins[canonicalize_name(name)] = (version, hashes)
    return pins


def test_the_lock_pins_every_core_and_github_dependency_by_hash() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["github"],
        *project["build-system"]["requires"],  # reconciler itself is built offline
    ]
    pins = locked()
    for line in wanted:
        requirement = Requirement(line)
        version, _ = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), f"{line}: the lock has {version}"
    assert "site-reconciler" not in pins  # the action installs it from its own checkout
    header = LOCK.read_text(encoding="utf-8").split("\n\n")[0]  # how it was made
    assert "pip-compile --allow-unsafe --build-deps-for=wheel --extra=github" in header


def test_the_action_installs_only_the_lock_with_hashes_then_reconciler_offline() -> None:
    install = next(s for s in load(ACTION)["runs"]["steps"] if s["name"] == "Install reconciler")
    script = install["run"]
    assert '--require-hashes --only-binary=:all: --no-deps -r "$lock"' in script
    assert '--no-deps --no-build-isolation --no-index "$target"' in script
    assert "python -m pip check" in script


@pytest.fixture
def action_checkout(tmp_path: Path) -> Path:
    """A checkout of this repository as the runner lays it out, with a fake `python`
    that records what pip is asked and a `reconciler` on PATH once installed."""
    root = tmp_path / "checkout"
    action = root / ".github" / "actions" / "reconciler"
    action.mkdir(parents=True)
    (action / "requirements.txt").write_text("click==8.1.7 --hash=sha256:00\n")
    (root / "src" / "reconciler").mkdir(parents=True)
    (root / "src" / "reconciler" / "cli.py").write_text("# one\n")
    (root / "pyproject.toml").write_text("[project]\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(
        "#!/bin/bash\n"
        'if [[ "$1" == -c ]]; then exec ' + sys.executable + ' "$@"; fi\n'
        'echo "$*" >>"$PIP_LOG"\n'
        'if [[ "$*" == *--no-index* ]]; then\n'
        '  made="$(dirname "$0")/reconciler"; printf "#!/bin/sh\\n" >"$made"; chmod +x "$made"\n'
        "fi\n"
    )
    python.chmod(0o755)
    return root


def run_install(checkout: Path, install: str = "") -> list[str]:
    step = next(s for s in load(ACTION)["runs"]["steps"] if s["name"] == "Install reconciler")
    log = checkout.parent / "pip.log"
    log.write_text("")
    temp = checkout.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    env = {
        "PATH": f"{checkout.parent / 'bin'}:/usr/bin:/bin",
        "GITHUB_ACTION_PATH": str(checkout / ".github" / "actions" / "reconciler"),
        "RUNNER_TEMP": str(temp),
        "INSTALL": install,
        "PIP_LOG": str(log),
    }
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    return calls if calls else [done.stdout.strip()]


def test_the_action_installs_once_a_job_for_the_same_source(action_checkout: Path) -> None:
    first = run_install(action_checkout)
    again = run_install(action_checkout)
    (action_checkout / "src" / "reconciler" / "cli.py").write_text("# two\n")
    changed = run_install(action_checkout)
    other = run_install(action_checkout, install="/elsewhere/reconciler")

    lock = action_checkout / ".github/actions/reconciler/requirements.txt"
    assert first[0].endswith(f"--require-hashes --only-binary=:all: --no-deps -r {lock}")
    assert first[1].endswith(
        "--no-deps --no-build-isolation --no-index "
        f"{action_checkout}/.github/actions/reconciler/../../.."
    )
    assert first[2] == "-m pip check"
    assert again == ["reconciler is installed from this source already: not installing it again"]
    assert changed == first
    assert other[1].endswith("--no-index /elsewhere/reconciler")
