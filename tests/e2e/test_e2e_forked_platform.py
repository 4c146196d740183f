"""The platform read from a forked child (issue 20: plan's platform work on another core).

``plan`` on a repository of more than one page of sites opens the configured platform in
a child process; the plan, its requests and its errors are the ones the command's own
process would have had. The CLI runs as a real process (a fork needs a process of one
thread), against the sandbox served over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from e2e_support import Repo
from test_e2e_dry_run_batch import TOKEN, stats
from test_e2e_dry_run_batch import served as served  # the fixture: 30 sites, 12 handed over
from test_e2e_duda import fake as fake  # the fake of Duda's API, 120 sites
from test_e2e_duda import repo as repo  # their files (this module's only `repo`)

from duda.fake import DudaFake
from reconciler.desired.problems import Problem, ValidationFailed
from reconciler.model import Location, Package
from reconciler.platform.base import Platform
from reconciler.platform.errors import NotFound, TransportError, Unauthorized
from reconciler.platform.forked import ForkedPlatform, can_fork
from reconciler.sandbox.memory import MemorySandbox
from reconciler.sandbox.seed import Seed, apply_seed
from support.repo import EXPERT

pytestmark = [
    pytest.mark.skipif(not can_fork(), reason="forks only on Linux"),
    # Python 3.12 warns of a fork beside threads; the test process has the sandbox's,
    # while the command forks only when it has none (can_fork).
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]


def command(
    repo: Repo, *args: str, process: str, token: str = TOKEN, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **(env or {}),
        "NO_COLOR": "1",
        "SANDBOX_TOKEN": token,
        "RECONCILER_PLATFORM_PROCESS": process,
    }
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "--root", str(repo.root), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def requests_of(url: str) -> dict[str, int]:
    counted: dict[str, int] = stats(url)["by_route"]
    return counted


Run = tuple[subprocess.CompletedProcess[str], dict[str, int]]


def both_ways(repo: Repo, *args: str) -> tuple[Run, Run]:
    """``reconciler ARGS`` with the platform in a child, then in the command's process:
    each run's outcome and the requests it made, by route."""
    assert repo.platform is not None
    url = repo.platform.url
    runs: list[Run] = []
    for process in ("always", "never"):
        before = requests_of(url)
        done = command(repo, *args, process=process)
        after = requests_of(url)
        assert done.returncode == 0, done.stderr
        runs.append((done, {route: after[route] - before.get(route, 0) for route in after}))
    return runs[0], runs[1]


def test_the_plan_from_a_forked_platform_is_the_same_plan(served: Repo) -> None:
    (forked, made_forked), (inline, made_inline) = both_ways(served, "plan", "--format", "json")

    assert _without_times(json.loads(forked.stdout)) == _without_times(json.loads(inline.stdout))
    assert json.loads(forked.stdout)["changes"], "the fixture hands sites over"
    assert made_forked == made_inline  # the same requests, dry runs included
    assert made_forked["POST /v1/dry-runs"] >= 1
    text = command(served, "plan", process="always")
    assert text.returncode == 0
    assert "transfer.start" in text.stdout


def test_status_from_a_forked_platform_is_the_same_portfolio(served: Repo) -> None:
    (forked, made_forked), (inline, made_inline) = both_ways(served, "status", "--format", "json")

    assert json.loads(forked.stdout) == json.loads(inline.stdout)
    assert json.loads(forked.stdout)["sites"], "the fixture's sites are listed"
    assert made_forked == made_inline


def test_a_refused_token_reads_the_same_from_the_child(served: Repo) -> None:
    forked = command(served, "plan", process="always", token="not-a-token")
    inline = command(served, "plan", process="never", token="not-a-token")

    assert forked.returncode == inline.returncode == 1
    assert forked.stderr == inline.stderr
    assert "Traceback" not in forked.stderr
    assert "token" in forked.stderr.lower()


def test_a_broken_configuration_reads_the_same_with_a_child_asked_for(served: Repo) -> None:
    config = (served.root / "reconciler.yaml").read_text()
    served.write("reconciler.yaml", config.replace("token_env:", "token_envv:"))
    forked = command(served, "plan", process="always")
    inline = command(served, "plan", process="never")

    assert forked.returncode == inline.returncode == 1
    assert forked.stderr == inline.stderr
    assert "reconciler.yaml:" in forked.stderr


def test_a_wrong_setting_of_the_process_is_named(served: Repo) -> None:
    done = command(served, "plan", process="sometimes")

    assert done.returncode == 1
    assert (
        "RECONCILER_PLATFORM_PROCESS='sometimes' is not one of auto, always, never" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_duda_read_from_the_child_makes_the_same_plan_and_requests(
    repo: Repo, fake: DudaFake
) -> None:
    """Duda reads by address: the files' interest crosses to the child before listing."""
    fake.reset_stats()
    forked = command(repo, "plan", "--format", "json", process="always", env=repo.env)
    made_forked = fake.stats().by_route
    fake.reset_stats()
    inline = command(repo, "plan", "--format", "json", process="never", env=repo.env)

    assert (forked.returncode, inline.returncode) == (0, 0), forked.stderr + inline.stderr
    assert _without_times(json.loads(forked.stdout)) == _without_times(json.loads(inline.stdout))
    assert made_forked == fake.stats().by_route
    assert any("permissions" in route for route in made_forked)  # read by address


def _without_times(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan less what differs between two runs a second apart (when it was made)."""
    return {key: value for key, value in plan.items() if key not in ("created_at", "fingerprint")}


# The child itself: opened, asked, broken. The in-memory platform runs in the child.

SEED = Seed.model_validate(
    {
        "accounts": [{"email": EXPERT, "kind": "expert", "token": TOKEN}],
        "sites": [
            {"id": "site-01", "name": "One", "owner": EXPERT, "billing_contact": EXPERT,
             "package": "free", "collaborators": {}},
        ],
    }
)  # fmt: skip


@contextmanager
def memory_platform() -> Iterator[Platform]:
    with MemorySandbox() as sandbox:
        apply_seed(sandbox.store, SEED)
        yield sandbox.platform(TOKEN)


@contextmanager
def refusing(error: BaseException) -> Iterator[Platform]:
    raise error
    yield  # pragma: no cover


def test_the_child_answers_reads_as_the_platform_does() -> None:
    forked = ForkedPlatform(memory_platform)
    try:
        assert [site.id for site in forked.sites()] == ["site-01"]
        assert forked.identity() == EXPERT
        with pytest.raises(NotFound):
            forked.site_transfers("no-such-site")
        assert forked.site_transfers("site-01") == []
    finally:
        forked.close()
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(forked._pid, os.WNOHANG)


def test_a_child_that_dies_is_an_error_that_says_so_not_a_hang() -> None:
    forked = ForkedPlatform(memory_platform)
    try:
        forked.wait_ready()
        os.kill(forked._pid, signal.SIGKILL)
        with pytest.raises(TransportError, match=r"stopped unexpectedly \(exit code -9\)"):
            list(forked.sites())
        with pytest.raises(TransportError, match="stopped unexpectedly"):
            forked.clock()
    finally:
        forked.close()


def test_errors_come_back_whole_whatever_their_constructor() -> None:
    problem = Problem(location=Location(file="reconciler.yaml", line=3, column=5), message="bad")
    forked = ForkedPlatform(lambda: refusing(ValidationFailed([problem])))
    try:
        with pytest.raises(ValidationFailed) as raised:
            forked.wait_ready()
        assert raised.value.problems == (problem,)
        assert str(raised.value) == str(ValidationFailed([problem]))
    finally:
        forked.close()

    denied = Unauthorized("the token is not valid", status=401)
    forked = ForkedPlatform(lambda: refusing(denied))
    try:
        with pytest.raises(Unauthorized) as refused:
            list(forked.sites())
        assert (refused.value.message, refused.value.status) == (denied.message, 401)
    finally:
        forked.close()


def test_a_bug_in_the_child_keeps_its_traceback() -> None:
    forked = ForkedPlatform(lambda: refusing(ValueError("a bug")))
    try:
        with pytest.raises(ValueError, match="a bug") as raised:
            forked.wait_ready()
        notes = "\n".join(getattr(raised.value, "__notes__", []))
        assert "in the platform's client process" in notes
        assert "refusing" in notes
    finally:
        forked.close()


def test_the_forked_platform_never_writes() -> None:
    forked = ForkedPlatform(memory_platform)
    try:
        with pytest.raises(AssertionError, match="reads and dry-runs only"):
            forked.purchase("site-01", Package.PREMIUM, if_match=None, idempotency_key="k")
        assert [site.package for site in forked.sites()] == [Package.FREE]
    finally:
        forked.close()
