"""A saved plan applies only if the files and the platform still produce exactly its
changes (DESIGN.md section 5): an edited plan file applies nothing."""

from __future__ import annotations

import json

from e2e_support import Repo

from reconciler.sandbox.store import SandboxStore


def platform_state(repo: Repo) -> str:
    """What a user would compare: the plan the platform and files give now."""
    return json.dumps(json.loads(repo.run("plan", "--format", "json").output)["changes"])


def test_a_purchase_appended_to_a_saved_plan_is_refused_and_nothing_applied(repo: Repo) -> None:
    plan_file = repo.root / "plan.json"
    assert repo.run("plan", "--out", str(plan_file)).exit_code == 0
    saved = json.loads(plan_file.read_text())
    # acme-bakery is being handed over: the expert must not buy its package first.
    saved["changes"].append(
        {
            "site": "acme-bakery",
            "action": "package.purchase",
            "details": {"package": "premium", "previous": "free"},
        }
    )
    plan_file.write_text(json.dumps(saved))  # the fingerprint is left as it was
    before = platform_state(repo)

    result = repo.run("apply", str(plan_file))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] + "\n" == (
        "error: the plan file's changes are not what the site files and the platform "
        "produce now (acme-bakery: package.purchase is in the plan file); nothing was "
        "applied. Run `reconciler plan --out FILE` again and review the new plan\n"
    )
    assert platform_state(repo) == before
    with SandboxStore(repo.db) as store:
        assert store.invoices_of("acme-bakery") == []


def test_a_change_removed_from_a_saved_plan_is_refused_too(repo: Repo) -> None:
    plan_file = repo.root / "plan.json"
    assert repo.run("plan", "--out", str(plan_file)).exit_code == 0
    saved = json.loads(plan_file.read_text())
    saved["changes"] = [c for c in saved["changes"] if c["action"] != "collaborator.remove"]
    plan_file.write_text(json.dumps(saved))

    result = repo.run("apply", str(plan_file))

    assert result.exit_code == 1
    assert "(old-shop: collaborator.remove is due but not in the plan file)" in result.stderr


def test_a_plan_that_cannot_be_saved_says_where_and_why_and_exits_1(repo: Repo) -> None:
    missing = repo.root / "no-such-folder" / "plan.json"

    result = repo.run("plan", "--out", str(missing))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: cannot write {missing}: No such file or directory"
    )
    assert "This is a bug" not in result.output


def test_status_out_and_plan_out_refuse_an_unwritable_path_alike(repo: Repo) -> None:
    folder = repo.root / "a-file"
    folder.write_text("not a folder\n")

    planned = repo.run("plan", "--out", str(folder / "plan.json"))
    status = repo.run("status", "--out", str(folder / "status.txt"))

    assert (planned.exit_code, status.exit_code) == (1, 1)
    assert (
        planned.stderr.splitlines()[-1]
        == f"error: cannot write {folder}/plan.json: Not a directory"
    )
    assert (
        status.stderr.splitlines()[-1]
        == f"error: cannot write {folder}/status.txt: Not a directory"
    )
