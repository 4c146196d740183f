"""The embedded sandbox's child process: started early, told late, never left behind."""

from __future__ import annotations

import os
import signal
import time

import pytest
from e2e_support import Repo

from reconciler.errors import ConfigError
from reconciler.operations.plan import PlanOperation
from reconciler.operations.sandbox_child import early_sandbox


def test_a_repository_without_a_platform_gets_its_sandbox_started_early(repo: Repo) -> None:
    with early_sandbox(repo.root) as child:
        assert child is not None
        plan = PlanOperation(repo.root, repo.env, sandbox=child).run(show=lambda _: None)
        assert child.exit_code() is None  # still serving, until the command ends

    assert child.exit_code() == 0
    assert [change.site for change in plan.changes][:2] == ["acme-bakery", "bistro-verde"]


@pytest.mark.parametrize(
    "config",
    [
        "platform:\n  url: https://platform.example/api\n  token_env: PLATFORM_TOKEN\n",
        None,  # no reconciler.yaml at all: the loader says what is wrong
    ],
)
def test_no_child_is_started_for_a_configured_platform(repo: Repo, config: str | None) -> None:
    settings = repo.root / "reconciler.yaml"
    if config is None:
        settings.unlink()
    else:
        settings.write_text(settings.read_text() + config)

    with early_sandbox(repo.root) as child:
        assert child is None


def test_a_child_the_command_did_not_need_exits_at_once(repo: Repo) -> None:
    with early_sandbox(repo.root) as child:
        assert child is not None
    assert child.exit_code() == 0
    assert not repo.db.exists()  # told nothing, it opened nothing


def test_a_child_that_died_before_serving_is_named_in_the_error(repo: Repo) -> None:
    with early_sandbox(repo.root) as child:
        assert child is not None
        os.kill(child.pid, signal.SIGKILL)
        while child.exit_code() is None:
            time.sleep(0.01)
        with pytest.raises(ConfigError, match=r"the embedded sandbox stopped \(exit code -9\)"):
            PlanOperation(repo.root, repo.env, sandbox=child).run(show=lambda _: None)
