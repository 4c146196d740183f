"""The embedded sandbox: a thread for a small repository, else a child process that is
started early, told late, and never left behind."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time

import pytest
from e2e_support import Repo

from reconciler.errors import ConfigError
from reconciler.operations.plan import PlanOperation
from reconciler.operations.sandbox_child import (
    SMALL_REPOSITORY,
    SandboxChild,
    early_sandbox,
    is_small,
)


def grow(repo: Repo, sites: int) -> None:
    """Site files enough to make the repository large (they are never loaded here)."""
    for n in range(sites):
        repo.write(f"sites/filler-{n:04d}.yaml", "owner: studio\n")


def test_a_small_repository_gets_no_child(repo: Repo) -> None:
    assert is_small(repo.root)
    with early_sandbox(repo.root) as child:
        assert child is None


def test_a_large_repository_gets_its_child_started_early(repo: Repo) -> None:
    grow(repo, SMALL_REPOSITORY)

    assert not is_small(repo.root)
    with early_sandbox(repo.root) as child:
        assert child is not None
        assert child.exit_code() is None
    assert child.exit_code() == 0  # told nothing, it exits at the end of its input
    assert not repo.db.exists()  # and it opened nothing


@pytest.mark.parametrize(
    "config",
    [
        "platform:\n  url: https://platform.example/api\n  token_env: PLATFORM_TOKEN\n",
        None,  # no reconciler.yaml at all: the loader says what is wrong
    ],
)
def test_no_child_is_started_for_a_configured_platform(repo: Repo, config: str | None) -> None:
    grow(repo, SMALL_REPOSITORY)
    settings = repo.root / "reconciler.yaml"
    if config is None:
        settings.unlink()
    else:
        settings.write_text(settings.read_text() + config)

    with early_sandbox(repo.root) as child:
        assert child is None


def test_plan_is_served_by_a_child_it_is_given(repo: Repo) -> None:
    with SandboxChild() as child:
        plan = PlanOperation(repo.root, repo.env, sandbox=child).run(show=lambda _: None)
        assert child.exit_code() is None  # still serving, until the command ends

    assert child.exit_code() == 0
    assert [change.site for change in plan.changes][:2] == ["acme-bakery", "bistro-verde"]


def test_a_child_that_died_before_serving_is_named_in_the_error(repo: Repo) -> None:
    with SandboxChild() as child:
        os.kill(child.pid, signal.SIGKILL)
        while child.exit_code() is None:
            time.sleep(0.01)
        with pytest.raises(ConfigError, match=r"the embedded sandbox stopped \(exit code -9\)"):
            PlanOperation(repo.root, repo.env, sandbox=child).run(show=lambda _: None)


def test_a_file_where_the_sandbox_folder_goes_is_an_error_not_a_bug(repo: Repo) -> None:
    # A read-only checkout fails the same way (EROFS), but root may write anywhere, so
    # the test puts a file where the folder would be made.
    (repo.root / ".reconciler").write_text("not a folder\n")

    result = repo.run("plan")

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot make the embedded sandbox's folder {repo.root / '.reconciler'}: "
        "File exists; the embedded sandbox keeps its database there (give reconciler.yaml "
        "a platform: block to use another platform)\n"
    )


SEED_CHANGED = (
    "sandbox.seed.yaml changed since the embedded sandbox was made from it; the sandbox "
    "keeps its own state, so the change has no effect: `reconciler sandbox seed "
    "sandbox.seed.yaml` loads it, `rm -r .reconciler` starts the sandbox again from it"
)


def warnings(repo: Repo, caplog: pytest.LogCaptureFixture, *args: str) -> list[str]:
    """The warnings one command logs (the CLI shows them on stderr)."""
    caplog.clear()
    assert repo.run(*args).exit_code == 0
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_seed_changed_after_the_sandbox_was_made_is_said_until_it_is_reset(
    repo: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    assert warnings(repo, caplog, "plan") == []
    assert warnings(repo, caplog, "plan") == []  # the same seed: nothing to say
    seed = repo.root / "sandbox.seed.yaml"
    seed.write_text(seed.read_text() + "# Nina signed up\n")

    assert warnings(repo, caplog, "plan") == [SEED_CHANGED]
    assert warnings(repo, caplog, "status") == [SEED_CHANGED]

    shutil.rmtree(repo.root / ".reconciler")
    assert warnings(repo, caplog, "plan") == []


def test_a_seed_written_after_the_sandbox_was_made_without_one_is_said(
    repo: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    seed = repo.root / "sandbox.seed.yaml"
    text = seed.read_text()
    seed.unlink()
    assert warnings(repo, caplog, "plan") == []
    seed.write_text(text)

    assert warnings(repo, caplog, "plan") == [SEED_CHANGED]


def test_the_changed_seed_loaded_again_is_not_said_to_have_no_effect(
    repo: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    assert warnings(repo, caplog, "plan") == []
    seed = repo.root / "sandbox.seed.yaml"
    nina = "accounts:\n  - {email: nina@new-client.example, kind: customer}\n"
    seed.write_text(seed.read_text().replace("accounts:\n", nina, 1))
    other = repo.write("other.seed.yaml", "accounts:\n  - {email: ola@x.example, kind: customer}\n")
    assert warnings(repo, caplog, "sandbox", "seed", str(other)) == []
    assert warnings(repo, caplog, "plan") == [SEED_CHANGED]  # another seed is not this one

    assert warnings(repo, caplog, "sandbox", "seed", str(seed)) == []
    assert warnings(repo, caplog, "plan") == []
