"""``--format json``: ONE JSON document on stdout in every outcome (DESIGN section 7).

Each command that reports a result is run in success, with nothing to do, and in
error (usage errors included); stdout must parse as exactly one JSON document each
time (``json.loads`` refuses trailing data), and an error is
``{"format_version": 1, "error": {"message", "problems"}}`` with exit 1. The platform
is the embedded sandbox over real HTTP; history and journal run in a real git
repository.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from e2e_support import Repo

from support.repo import Result, git

ERROR_KEYS = {"format_version", "error"}


def document(result: Result) -> dict[str, Any]:
    """The one JSON document of stdout."""
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict), result.stdout
    assert parsed["format_version"] == 1
    return parsed


def error_document(result: Result) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    parsed = document(result)
    assert parsed.keys() >= ERROR_KEYS, parsed
    assert isinstance(parsed["error"]["message"], str)
    assert isinstance(parsed["error"]["problems"], list)
    return parsed["error"]  # type: ignore[no-any-return]


def json_run(repo: Repo, *args: str) -> Result:
    return repo.run(*args, "--format", "json")


def commit_all(repo: Repo) -> None:
    git(repo.root, "init", "--quiet", "--initial-branch=main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "--quiet", "-m", "The sites")


def test_validate(repo: Repo) -> None:
    assert document(json_run(repo, "validate"))["valid"] is True
    for path in (repo.root / "sites").iterdir():
        path.unlink()
    assert document(json_run(repo, "validate"))["sites"] == 0  # nothing to check
    repo.site("bad", "id: bad\nowner: nobody-known\n")
    failed = json_run(repo, "validate")
    assert failed.exit_code == 1
    assert document(failed)["valid"] is False
    (repo.root / "reconciler.yaml").unlink()
    assert error_document(json_run(repo, "validate"))["message"].startswith("no reconciler.yaml")


def test_plan(repo: Repo) -> None:
    assert len(document(json_run(repo, "plan"))["changes"]) == 5
    assert repo.run("apply", "--yes").exit_code == 0
    assert document(json_run(repo, "plan"))["changes"] == []
    repo.site("bad", "id: bad\nowner: nobody-known\n")
    error = error_document(json_run(repo, "plan"))
    assert error["problems"][0]["file"] == "sites/bad.yaml"


def test_a_plan_over_a_policy_limit_is_one_error_document_that_carries_the_plan(
    repo: Repo,
) -> None:
    repo.write("reconciler.yaml", "expert: studio@pixel.example\npolicy:\n  max_handovers: 0\n")

    error = json_run(repo, "plan")

    assert "max_handovers" in error_document(error)["message"]
    assert len(document(error)["plan"]["changes"]) == 5


def test_apply(repo: Repo) -> None:
    refused = json_run(repo, "apply")  # stdin is no terminal and no --yes
    assert "pass --yes" in error_document(refused)["message"]
    applied = document(json_run(repo, "apply", "--yes"))
    outcomes = [result["outcome"] for result in applied["results"]]
    assert (applied["ok"], outcomes.count("done")) == (True, 5)
    again = document(json_run(repo, "apply", "--yes"))  # nothing to do: still a report
    assert again["ok"] is True
    assert [r["details"] for r in again["results"]] == [{"held": "at plan time"}]  # harbor-yoga
    repo.site("harbor-yoga", repo.read_site("harbor-yoga").replace("billing_contact:", "#"))
    assert document(json_run(repo, "apply", "--yes")) == {
        "format_version": 1,
        "ok": True,
        "results": [],
    }


def test_import(repo: Repo) -> None:
    written = document(json_run(repo, "import", "legacy-landing"))
    assert written["written"] == ["sites/legacy-landing.yaml"]
    assert document(json_run(repo, "import", "legacy-landing"))["unchanged"] == [
        "sites/legacy-landing.yaml"
    ]
    usage = error_document(json_run(repo, "import"))
    assert usage["message"] == "name the sites to import, or pass --all (not both)"
    assert "no-such-site" in error_document(json_run(repo, "import", "no-such-site"))["message"]


def test_fmt(repo: Repo) -> None:
    assert document(json_run(repo, "fmt"))["changed"] == []
    repo.site("old-shop", repo.read_site("old-shop").replace("id: old-shop", "id:   old-shop"))
    would = json_run(repo, "fmt", "--check")
    assert would.exit_code == 1
    assert document(would)["changed"] == ["sites/old-shop.yaml"]
    done = document(json_run(repo, "fmt"))
    assert (done["changed"], done["written"]) == (["sites/old-shop.yaml"], True)
    assert error_document(json_run(repo, "fmt", "--bogus"))["message"].startswith("No such option")


def test_history_and_journal(repo: Repo) -> None:
    commit_all(repo)
    found = document(json_run(repo, "history", "acme-bakery"))
    assert len(found["commits"]) == 1
    # (history has no "nothing to do": a site git never saw is an error)
    unknown = error_document(json_run(repo, "history", "no-such-site"))
    assert unknown["message"] == "no commit touches sites/no-such-site.yaml; check the site id"
    assert error_document(json_run(repo, "history"))["message"].startswith("Missing argument")

    assert document(json_run(repo, "journal")) == {
        "format_version": 1,
        "journal": None,
        "recorded": False,
    }
    repo.write(".reconciler/apply-journal.txt", "reconciler apply at 2026-12-01T00:00:00Z\n")
    left = document(json_run(repo, "journal", "--record"))
    assert left["journal"].endswith("\nreconciler apply at 2026-12-01T00:00:00Z")
    assert left["recorded"] is True
    git(repo.root, "update-ref", "-d", "HEAD")
    repo.write(".reconciler/apply-journal.txt", "reconciler apply at 2026-12-02T00:00:00Z\n")
    assert "no commit" in error_document(json_run(repo, "journal", "--record"))["message"]


def test_status(repo: Repo) -> None:
    everything = document(json_run(repo, "status"))
    assert everything["totals"]["sites"] == 6
    one = document(json_run(repo, "status", "acme-bakery"))
    assert [site["id"] for site in one["sites"]] == ["acme-bakery"]
    assert (one["totals"]["sites"], one["totals"]["handovers_pending"]) == (1, 0)
    assert "no-such-site" in error_document(json_run(repo, "status", "no-such-site"))["message"]


def test_show(repo: Repo) -> None:
    assert repo.run("plan", "--out", str(repo.root / "plan.json")).exit_code == 0
    shown = document(json_run(repo, "show", str(repo.root / "plan.json")))
    assert shown == json.loads((repo.root / "plan.json").read_text(encoding="utf-8"))
    assert repo.run("apply", "--yes").exit_code == 0
    assert repo.run("plan", "--out", str(repo.root / "empty.json")).exit_code == 0
    assert document(json_run(repo, "show", str(repo.root / "empty.json")))["changes"] == []
    repo.write("garbage.json", "[[[")
    error = error_document(json_run(repo, "show", str(repo.root / "garbage.json")))
    assert "is not a plan file" in error["message"]


@pytest.mark.parametrize("sub", ["seed", "account", "clock", "transfer"])
def test_sandbox_commands(repo: Repo, sub: str) -> None:
    seed = str(repo.root / "sandbox.seed.yaml")
    db = str(repo.root / "other.db")
    if sub == "seed":
        assert document(json_run(repo, "sandbox", "seed", seed, "--db", db))["sites"] == 6
        again = document(json_run(repo, "sandbox", "seed", seed, "--db", db))
        assert again["accounts"] >= 0  # safe to repeat
        repo.write("bad.seed.yaml", "accounts: 3\n")
        error_document(json_run(repo, "sandbox", "seed", str(repo.root / "bad.seed.yaml")))
        return
    error = error_document(json_run(repo, "sandbox", *_sandbox_args(sub), "--db", db))
    assert error["message"].startswith("no sandbox database at ")
    assert repo.run("apply", "--yes").exit_code == 0  # the embedded sandbox, and a handover
    done = document(json_run(repo, "sandbox", *_sandbox_args(sub)))
    assert done
    if sub == "account":
        again = document(json_run(repo, "sandbox", *_sandbox_args(sub)))
        assert again["created"] is False
    if sub == "transfer":
        assert (done["status"], done["by"]) == ("accepted", "anna@acme-bakery.example")
        gone = error_document(json_run(repo, "sandbox", *_sandbox_args(sub)))
        assert "acme-bakery" in gone["message"]


def _sandbox_args(sub: str) -> tuple[str, ...]:
    return {
        "account": ("account", "add", "nina@new-client.example"),
        "clock": ("clock", "advance", "1"),
        "transfer": ("transfer", "accept", "acme-bakery"),
    }[sub]


def test_broken_input_is_one_error_document(repo: Repo) -> None:
    shutil.rmtree(repo.root / "sites")
    repo.write("sites", "not a folder")  # exit 1, never a crash; still one document

    error = json_run(repo, "plan")

    assert error_document(error)["message"]
