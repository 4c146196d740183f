"""apply against a platform that fails: 503s, lost answers and rate limiting.

The sandbox runs as a separate platform (a `platform:` block with a token variable),
with faults injected; apply must converge within two runs and never do anything twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Repo

from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.server import ThreadedSandbox


@pytest.fixture
def faulty_platform(repo: Repo, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Repo]:
    spec = FaultSpec.parse(request.param)
    with ThreadedSandbox(tmp_path / "platform.db", faults=spec) as platform:
        seed_file(platform.store, repo.root / "sandbox.seed.yaml")
        repo.write(
            "reconciler.yaml",
            "expert: studio@pixel.example\n"
            f"platform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n",
        )
        repo.env["SANDBOX_TOKEN"] = "studio-token"
        repo.platform = platform
        yield repo


FAULTS = [
    "error_rate=0.3,seed=1",
    "drop_rate=0.3,seed=2",
    "rate_limit=20,seed=3",
    "error_rate=0.2,drop_rate=0.2,latency_ms=5,seed=4",
]


@pytest.mark.parametrize("faulty_platform", FAULTS, indirect=True)
def test_apply_under_faults_converges_in_two_runs_with_one_effect_each(
    faulty_platform: Repo,
) -> None:
    repo = faulty_platform
    assert repo.platform is not None
    store = repo.platform.store

    first = repo.run("apply", "--yes")
    if first.exit_code != 0:
        assert "FAILED" in first.output
        second = repo.run("apply", "--yes")
        assert second.exit_code == 0, second.output
    final = repo.run("plan", "--detailed-exitcode")

    assert final.exit_code == 0, final.output
    assert [i.billed_to for i in store.invoices_of("pixel-studio")] == ["studio@pixel.example"]
    assert len(store.transfers_of("acme-bakery")) == 1
    assert store.site("old-shop").collaborators == {}
    assert store.site("bistro-verde").collaborators["marco@bistro-verde.example"].value == "viewer"


def test_missing_token_variable_is_a_clear_error(repo: Repo) -> None:
    repo.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\n"
        "platform:\n  url: http://127.0.0.1:9\n  token_env: SANDBOX_TOKEN\n",
    )

    result = repo.run("plan")

    assert result.exit_code == 1
    assert "error: the environment variable SANDBOX_TOKEN is not set" in result.output


def test_unreachable_platform_is_a_clear_error(repo: Repo) -> None:
    repo.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\n"
        "platform:\n  url: http://127.0.0.1:9\n  token_env: SANDBOX_TOKEN\n",
    )
    repo.env["SANDBOX_TOKEN"] = "secret-token-value"

    result = repo.run("plan")

    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output
    assert "secret-token-value" not in result.output


def test_token_of_another_account_is_refused(repo: Repo, tmp_path: Path) -> None:
    with ThreadedSandbox(tmp_path / "platform.db") as platform:
        seed_file(platform.store, repo.root / "sandbox.seed.yaml")
        repo.write(
            "reconciler.yaml",
            "expert: studio@pixel.example\n"
            f"platform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n",
        )
        repo.env["SANDBOX_TOKEN"] = "anna-token"

        result = repo.run("plan")

    assert result.exit_code == 1
    assert (
        "error: the platform token belongs to anna@acme-bakery.example, but reconciler.yaml "
        "says the expert is studio@pixel.example" in result.output
    )
