"""plan and apply on the example repository, against the embedded sandbox."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from e2e_support import Repo

from reconciler.desired import loader
from reconciler.model import Package
from reconciler.sandbox.store import SandboxStore


def test_plan_lists_every_change_in_order_and_never_writes(repo: Repo) -> None:
    first = repo.run("plan", "--format", "json")
    second = repo.run("plan", "--format", "json")

    assert first.exit_code == 0, first.output
    assert first.output == second.output  # planning is deterministic and wrote nothing
    plan = json.loads(first.output)
    assert plan["format_version"] == 1
    assert plan["fingerprint"].startswith("sha256:")
    assert [(c["site"], c["action"]) for c in plan["changes"]] == [
        ("acme-bakery", "transfer.start"),
        ("bistro-verde", "collaborator.add"),
        ("old-shop", "collaborator.remove"),
        ("pixel-studio", "billing_contact.set"),
        ("pixel-studio", "package.purchase"),
    ]
    handover = plan["changes"][0]["details"]
    assert handover["to"] == "anna@acme-bakery.example"
    assert handover["stay_as_collaborator"] is True
    kinds = {(n["site"], n["kind"]) for n in plan["notes"]}
    assert ("legacy-landing", "unmanaged") in kinds
    assert ("harbor-yoga", "blocked") in kinds
    assert ("acme-bakery", "waiting") in kinds


def test_detailed_exitcode_is_2_with_changes_and_0_without(repo: Repo) -> None:
    assert repo.run("plan", "--detailed-exitcode").exit_code == 2
    assert repo.run("apply", "--yes").exit_code == 0
    assert repo.run("plan", "--detailed-exitcode").exit_code == 0


def test_apply_then_client_accepts_then_plan_is_empty(repo: Repo) -> None:
    applied = repo.run("apply", "--yes")

    assert applied.exit_code == 0, applied.output
    assert "Apply: 5 done, 0 failed, 0 skipped." in applied.output
    pending = repo.run("plan")
    # Not "the platform matches the site files" beside a pending handover (issue 18).
    assert (
        "No changes to apply, but the platform does not match the site files of 2 sites: "
        "see the notes." in pending.output
    )
    assert "the platform matches" not in pending.output
    assert "handover to anna@acme-bakery.example pending since" in pending.output

    accepted = repo.run("sandbox", "transfer", "accept", "acme-bakery")
    assert accepted.exit_code == 0, accepted.output

    after = repo.run("plan", "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    assert (
        "anna@acme-bakery.example owns the site and must buy premium (now free); "
        "only the owner can buy a package" in after.output
    )
    with SandboxStore(repo.db) as store:
        bakery = store.site("acme-bakery")
        assert bakery.owner == "anna@acme-bakery.example"
        assert bakery.billing_contact == "anna@acme-bakery.example"
        assert bakery.collaborators["studio@pixel.example"].value == "editor"
        assert store.invoices_of("acme-bakery") == []  # the expert bought nothing for it
        studio = store.site("pixel-studio")
        assert studio.package is Package.PREMIUM
        assert [i.billed_to for i in store.invoices_of("pixel-studio")] == ["studio@pixel.example"]


def test_apply_twice_sends_nothing_the_second_time(repo: Repo) -> None:
    assert repo.run("apply", "--yes").exit_code == 0
    again = repo.run("apply", "--yes")

    assert again.exit_code == 0
    assert "No changes" in again.output
    assert "Apply:" not in again.output


def test_apply_asks_and_refuses_without_a_terminal(repo: Repo) -> None:
    result = repo.run("apply")

    assert result.exit_code == 1
    assert "pass --yes to apply non-interactively" in result.output


def test_saved_plan_applies_exactly_and_is_refused_once_stale(repo: Repo) -> None:
    plan_file = repo.root / "plan.json"
    assert repo.run("plan", "--out", str(plan_file)).exit_code == 0
    saved = json.loads(plan_file.read_text())
    assert len(saved["changes"]) == 5

    reseeded = repo.run("sandbox", "seed", str(repo.root / "sandbox.seed.yaml"))
    assert reseeded.exit_code == 0, reseeded.output  # seeding again changes nothing
    applied = repo.run("apply", str(plan_file))
    assert applied.exit_code == 0, applied.output
    assert "Apply: 5 done" in applied.output

    stale = repo.run("apply", str(plan_file))
    assert stale.exit_code == 1
    assert "the platform changed since this plan was made" in stale.output


def test_policy_limits_refuse_the_plan_unless_forced(repo: Repo) -> None:
    repo.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\npolicy:\n  max_handovers: 0\n  max_removals: 0\n",
    )

    refused = repo.run("plan")
    forced = repo.run("plan", "--force")

    assert refused.exit_code == 1
    assert (
        "error: the plan has 1 handover (policy.max_handovers is 0) and 1 access removal "
        "(policy.max_removals is 0)" in refused.output
    )
    assert "pass --force" in refused.output
    assert "> transfer.start       HANDOVER to anna@acme-bakery.example" in refused.output
    assert refused.output.index("HANDOVER") < refused.output.index("error: the plan has")
    assert forced.exit_code == 0


def test_markdown_plan_spells_out_the_billing_consequence(repo: Repo) -> None:
    result = repo.run("plan", "--format", "markdown")

    assert result.exit_code == 0
    assert "#### Handovers (1)" in result.output
    assert (
        "anna@acme-bakery.example owns the site, pays with their own card, is invoiced in "
        "their own name" in result.output
    )
    assert "<details><summary><b>pixel-studio</b></summary>" in result.output


def test_invalid_site_files_stop_plan_with_the_problems(repo: Repo) -> None:
    repo.write("sites/old-shop.yaml", "id: old-shop\nowner: nobody\n")

    result = repo.run("plan")
    applied = repo.run("apply", "--yes")

    for refused in (result, applied):
        assert refused.exit_code == 1
        assert (
            "sites/old-shop.yaml:2:8: error: unknown handle 'nobody'; add it to people.yaml "
            "or write an e-mail address" in refused.output
        )
        assert "error: 1 error in 1 file; fix it and run `reconciler validate` again" in (
            refused.output
        )
        assert "Plan:" not in refused.output
    # The platform was listed meanwhile (plan reads it while the files load), never written.
    with SandboxStore(repo.db) as store:
        assert store.site("old-shop").collaborators["tom@freelance.example"].value == "editor"
        assert store.site("old-shop").version == 1


def test_a_mistyped_option_is_exit_1_never_the_changes_code_2(repo: Repo) -> None:
    """A drift check reads exit 2 as "changes to apply": a usage error must not say so."""
    result = repo.run("plan", "--detailed-exitcode", "--formt", "json")

    assert result.exit_code == 1
    assert "Error: No such option '--formt'" in result.output


def test_apply_reads_reconciler_yaml_and_each_site_file_once(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: Counter[str] = Counter()
    real = loader.read_yaml_file

    def counted(
        path: Path, display: str, *, root: Path | None = None, max_bytes: int | None = None
    ) -> loader.Parsed:
        read[display] += 1
        return real(path, display, root=root, max_bytes=max_bytes)

    monkeypatch.setattr(loader, "read_yaml_file", counted)

    result = repo.run("apply", "--yes")

    assert result.exit_code == 0, result.output
    assert read["reconciler.yaml"] == 1
    assert read["sites/acme-bakery.yaml"] == 1
    assert set(read.values()) == {1}
