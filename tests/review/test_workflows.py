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


OWN_ACTION = "pixel-studio/reconciler/.github/actions/reconciler"
REUSABLE = {name: WORKFLOWS / f"reusable-{name}.yml" for name in ("plan", "apply", "drift")}
CALLERS = {"plan": "pull-request.yml", "apply": "apply.yml", "drift": "drift.yml"}
EXAMPLE = ROOT / "examples" / "site-repository"


def all_files() -> list[Path]:
    return [*sorted(WORKFLOWS.glob("*.yml")), ACTION, *sorted(EXAMPLE.glob(".github/*/*.yml"))]


def uses_lines(path: Path) -> list[re.Match[str]]:
    return list(
        re.finditer(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", path.read_text(encoding="utf-8"), re.M)
    )


def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment() -> None:
    remote = [
        (path.name, m)
        for path in all_files()
        for m in uses_lines(path)
        if m.group(1).startswith("actions/")
    ]
    assert remote, "the workflows use GitHub's actions"
    for name, match in remote:
        action, _, ref = match.group(1).partition("@")
        sha, version = PINS[action]
        assert (ref, match.group(2).strip()) == (sha, f"# {version}"), f"{name}: {match.group(0)}"


def own_action_pins() -> set[str]:
    pins = set()
    for path in REUSABLE.values():
        for match in uses_lines(path):
            assert not match.group(1).startswith("./"), f"{path.name}: ./ is the caller's"
            if match.group(1).startswith("pixel-studio/"):
                action, _, ref = match.group(1).partition("@")
                assert action == OWN_ACTION, match.group(0)
                assert re.fullmatch(r"[0-9a-f]{40}", ref), match.group(0)
                pins.add(ref)
    return pins


def test_the_reusable_workflows_never_use_the_callers_folder() -> None:
    """In a site repository's run, `./` is the site repository's own folder."""
    own_action_pins()


def test_each_reusable_workflow_is_called_by_this_repository_with_its_secret() -> None:
    for name, caller in CALLERS.items():
        workflow = load(REUSABLE[name])
        assert list(workflow["on"]) == ["workflow_call"], name
        (job,) = load(WORKFLOWS / caller)["jobs"].values()
        assert job["uses"] == f"./.github/workflows/reusable-{name}.yml", caller
        assert set(job) <= {"uses", "with", "secrets", "permissions"}, caller
        assert set(job["secrets"]) == set(workflow["on"]["workflow_call"]["secrets"]), caller
        assert "inherit" not in str(job["secrets"])


def test_permissions_are_per_job_and_least_for_each() -> None:
    expected = {
        ("reusable-plan.yml", "plan"): {"contents": "read", "pull-requests": "write"},
        ("reusable-drift.yml", "drift"): {"contents": "read", "issues": "write"},
        ("reusable-apply.yml", "apply-merge"): {"contents": "write", "pull-requests": "write"},
        ("reusable-apply.yml", "apply-all"): {"contents": "write", "pull-requests": "read"},
        ("reusable-apply.yml", "refuse-other-branches"): {},
    }
    workflows = [*sorted(WORKFLOWS.glob("*.yml")), *sorted(EXAMPLE.glob(".github/workflows/*"))]
    for path in workflows:
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{path.name}: permissions belong to the jobs"
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: {name}"
            if (path.name, name) in expected:
                assert job["permissions"] == expected[path.name, name]


def test_no_checkout_leaves_the_token_behind() -> None:
    for path in all_files():
        for step in steps_of(load(path)) if path != ACTION else []:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_only_the_notes_steps_give_git_the_token() -> None:
    jobs = [*load(REUSABLE["apply"])["jobs"].values(), *load(REUSABLE["plan"])["jobs"].values()]
    for job in jobs:
        for step in job["steps"]:
            given = "github.token" in str(step.get("env", {}))
            if given and "run" in step:
                assert step["name"] in {"Fetch the git notes", "Push the git notes"}
                assert "GIT_CONFIG_VALUE_0" in step["run"]  # in the environment, not argv
                assert "::add-mask::" in step["run"]
    for path in all_files():
        assert "git config" not in path.read_text(encoding="utf-8") or path == REUSABLE["apply"]


def test_the_action_installs_from_its_own_checkout_by_default() -> None:
    action = load(ACTION)
    assert action["inputs"]["install"]["default"] == ""
    install = next(s for s in action["runs"]["steps"] if s["name"] == "Install reconciler")
    assert '"${INSTALL:-$GITHUB_ACTION_PATH/../../..}"' in install["run"]
    assert (ROOT / ".github/actions/reconciler/../../../pyproject.toml").is_file()
    for path in WORKFLOWS.glob("*.yml"):  # no workflow names a package to install
        assert all("install" not in s.get("with", {}) for s in steps_of(load(path))), path


def test_pull_requests_plan_with_the_read_token_and_skip_forks() -> None:
    workflow = load(REUSABLE["plan"])
    for path in (REUSABLE["plan"], WORKFLOWS / "pull-request.yml"):
        assert "secrets.PLATFORM_TOKEN" not in path.read_text(encoding="utf-8")
    plan = next(s for s in steps_of(workflow) if s.get("id") == "plan")
    assert plan["env"] == {"PLATFORM_TOKEN": "${{ secrets.PLATFORM_READ_TOKEN }}"}
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in plan["if"]
    comment = next(s for s in steps_of(workflow) if s.get("name", "").startswith("Comment"))
    assert same_repo in comment["if"]
    assert "c.user.login === bot" in comment["with"]["script"]
    assert "error.status !== 403" in comment["with"]["script"]
    assert workflow["jobs"]["plan"]["env"]["BOT_LOGIN"] == "github-actions[bot]"


def test_pull_requests_check_formatting_and_post_the_whole_plan() -> None:
    steps = steps_of(load(REUSABLE["plan"]))
    fmt = next(s for s in steps if s.get("id") == "fmt")
    assert (fmt["with"]["command"], fmt["with"]["args"]) == ("fmt", "--check")
    failing = next(s for s in steps if s.get("name", "").startswith("Fail"))
    assert "steps.fmt.outputs.exit-code != '0'" in failing["if"]
    plan = next(s for s in steps if s.get("id") == "plan")
    assert plan["with"]["job-summary"] == "markdown"
    comment = next(s for s in steps if s.get("name", "").startswith("Comment"))
    assert "text = read(process.env.PLAN_FILE);" in comment["with"]["script"]  # all of it
    validate = next(s for s in steps if s.get("id") == "validate")
    assert validate["with"]["annotations"] == "true"


def test_only_main_in_the_platform_environment_gets_the_write_token() -> None:
    workflow = load(REUSABLE["apply"])
    jobs = workflow["jobs"]
    for name in ("apply-merge", "apply-all"):
        assert jobs[name]["environment"] == "platform"
    assert "github.ref == 'refs/heads/main'" in jobs["apply-all"]["if"]
    assert "github.ref != 'refs/heads/main'" in jobs["refuse-other-branches"]["if"]
    for path in (*REUSABLE.values(), *WORKFLOWS.glob("*.yml")):
        if path.name not in ("reusable-apply.yml", "apply.yml"):
            assert "secrets.PLATFORM_TOKEN" not in path.read_text(encoding="utf-8"), path
    apply_step = next(s for s in jobs["apply-merge"]["steps"] if s.get("id") == "apply")
    assert apply_step["uses"].startswith((OWN_ACTION + "@", "$/.github/actions/reconciler"))
    assert apply_step["with"]["args"] == (
        "--yes --require-approval ${{ steps.base.outputs.args }} --format json"
    )
    assert apply_step["with"]["job-summary"] == "apply-report"
    names = [s.get("name", "") for s in jobs["apply-all"]["steps"]]
    plan = next(s for s in jobs["apply-all"]["steps"] if s.get("id") == "plan")
    assert plan["with"]["job-summary"] == "markdown"  # shown before it is applied
    assert names.index("Plan") < names.index("Apply exactly that plan")


def test_a_push_that_touches_no_desired_state_runs_nothing() -> None:
    for path in (WORKFLOWS / "apply.yml", EXAMPLE / ".github/workflows/apply.yml"):
        if not path.exists():
            continue
        push = load(path)["on"]["push"]
        assert push == {
            "branches": ["main"],
            "paths": ["sites/**", "people.yaml", "reconciler.yaml"],
        }, path


def test_the_manual_run_takes_a_list_of_sites() -> None:
    caller = load(WORKFLOWS / "apply.yml")
    assert caller["on"]["workflow_dispatch"]["inputs"]["sites"]["default"] == ""
    (job,) = caller["jobs"].values()
    assert job["with"] == {"sites": "${{ inputs.sites }}"}


def test_actionlint_passes_every_workflow() -> None:
    actionlint = Path(sys.executable).parent / "actionlint"
    shellcheck = Path(sys.executable).parent / "shellcheck"
    files = [*sorted(WORKFLOWS.glob("*.yml")), *sorted(EXAMPLE.glob(".github/workflows/*"))]
    done = subprocess.run(
        [actionlint, "-shellcheck", shellcheck, *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


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
    job = load(REUSABLE["apply"])["jobs"]["apply-merge"]
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


# --- the last complete apply, and the manual run's sites, by running the steps ---------


def run_step(clone: Path, job: str, step_id: str, **env: str) -> tuple[int, str, str, str]:
    steps = load(REUSABLE["apply"])["jobs"][job]["steps"]
    script = next(s for s in steps if s.get("id") == step_id)["run"]
    output, summary = clone / "output.txt", clone / "summary.md"
    output.write_text("")
    summary.write_text("")
    done = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=clone,
        env={
            **os.environ,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, output.read_text(), summary.read_text(), done.stdout


def note(clone: Path, commit: str, block: str) -> None:
    git(clone, "notes", "--ref=reconciler", "add", "-f", "-m", block, commit)


COMPLETE = "reconciler-apply v1 commit={} scope={} finished=true failed=0 held=0"


def test_with_a_complete_apply_recorded_the_merge_applies_since_the_last_apply(
    clone: Path,
) -> None:
    base = git(clone, "rev-parse", "HEAD~1")
    note(clone, base, "reconciler apply at ...\n\n" + COMPLETE.format(base, "since-last-apply"))
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "three")

    code, output, summary, _ = run_step(clone, "apply-merge", "base", BEFORE=base)

    assert (code, output, summary) == (0, "args=--since-last-apply\n", "")


@pytest.mark.parametrize(
    "block",
    [
        "reconciler-apply v1 commit=x scope=all finished=true failed=1 held=0",
        "reconciler-apply v1 commit=x scope=all finished=true failed=0 held=2",
        "reconciler-apply v1 commit=x scope=all finished=false failed=0 held=0",
        "reconciler-apply v1 commit=x scope=sites finished=true failed=0 held=0",
        "reconciler-apply v1 commit=x scope=changed-since finished=true failed=0 held=0",
        "reconciler apply at 2026-11-27T10:00:00Z",  # an older version's note
    ],
)
def test_without_a_complete_apply_the_merge_falls_back_to_its_before_commit_and_says_so(
    clone: Path, block: str
) -> None:
    before = git(clone, "rev-parse", "HEAD~1")
    note(clone, before, block)

    code, output, summary, _ = run_step(clone, "apply-merge", "base", BEFORE=before)

    assert (code, output) == (0, f"args=--changed-since {before}\n")
    assert summary.startswith("No complete apply is recorded yet")
    assert f"(`{before[:12]}`), not `--since-last-apply`" in summary


def test_a_complete_apply_off_the_first_parent_line_is_not_the_base(clone: Path) -> None:
    git(clone, "checkout", "--quiet", "-b", "topic")
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "on a branch")
    side = git(clone, "rev-parse", "HEAD")
    note(clone, side, COMPLETE.format(side, "all"))
    git(clone, "checkout", "--quiet", "main")
    before = git(clone, "rev-parse", "HEAD")
    git(clone, "merge", "--quiet", "--no-ff", "-m", "merge", "topic")

    _, output, _, _ = run_step(clone, "apply-merge", "base", BEFORE=before)

    assert output == f"args=--changed-since {before}\n"


@pytest.mark.parametrize(
    ("sites", "args"),
    [("", ""), ("acme-bakery", " --site acme-bakery"), ("a b,c", " --site a --site b --site c")],
)
def test_the_manual_run_names_each_site_with_site(clone: Path, sites: str, args: str) -> None:
    code, output, _, _ = run_step(clone, "apply-all", "sites", SITES=sites)

    assert (code, output) == (0, f"args={args}\n")


@pytest.mark.parametrize("sites", ["acme;rm -rf ~", "--all", "$(id)", "a/../b"])
def test_the_manual_run_refuses_what_is_not_a_site_id(clone: Path, sites: str) -> None:
    code, output, _, log = run_step(clone, "apply-all", "sites", SITES=sites)

    assert (code, output) == (1, "")
    assert "not a site id" in log


# --- our own action, pinned; the example site repository ---------------------------------


def test_the_reusable_workflows_use_the_action_of_one_commit_whose_action_is_this_one() -> None:
    """The reusable workflows name this repository and a commit (the release steps re-pin
    it, CONTRIBUTING.md); that commit's action is the action of this tree."""
    pins = own_action_pins()
    assert len(pins) == 1, pins
    (pin,) = pins
    git(ROOT, "merge-base", "--is-ancestor", pin, "HEAD")  # on this repository's history
    changed = git(ROOT, "diff", "--stat", pin, "--", ".github/actions/reconciler")
    assert changed == "", f"re-pin the reusable workflows: the action changed since {pin}"


def example_calls() -> list[tuple[str, str, dict[str, Any]]]:
    calls = []
    for path in sorted((EXAMPLE / ".github" / "workflows").glob("*.yml")):
        for job in load(path)["jobs"].values():
            assert set(job) <= {"uses", "with", "secrets", "permissions"}, path.name
            workflow, _, ref = job["uses"].partition("@")
            calls.append((workflow, ref, job))
    return calls


def test_the_example_site_repository_only_calls_the_reusable_workflows() -> None:
    calls = example_calls()
    assert sorted(w.rsplit("/", 1)[1] for w, _, _ in calls) == sorted(
        f"reusable-{name}.yml" for name in REUSABLE
    )
    for workflow, ref, job in calls:
        assert workflow.startswith("pixel-studio/reconciler/.github/workflows/reusable-")
        assert re.fullmatch(r"[0-9a-f]{40}", ref)
        git(ROOT, "merge-base", "--is-ancestor", ref, "HEAD")
        path = workflow.removeprefix("pixel-studio/reconciler/")
        called = YAML(typ="safe").load(git(ROOT, "show", f"{ref}:{path}"))["on"]["workflow_call"]
        assert set(job.get("with", {})) <= set(called.get("inputs", {})), workflow
        assert set(job.get("secrets", {})) <= set(called.get("secrets", {})), workflow
        assert "inherit" not in str(job.get("secrets"))


def test_the_example_site_repository_is_valid() -> None:
    done = subprocess.run(
        [Path(sys.executable).parent / "reconciler", "--root", EXAMPLE, "validate"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert (done.returncode, done.stdout) == (0, "1 site file valid\n"), done.stderr
