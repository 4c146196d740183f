"""Done when of the issue "A real platform: site access as code on Duda's Partner API":
the real CLI against the fake of Duda's API over real HTTP on 127.0.0.1, a repository of
120 Duda sites (two listing pages). The fake keeps Duda's limits on the wall clock here,
so the waits are real ones; what is asserted are the fake's counts, never a duration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from duda.fake import DudaFake
from support.repo import EXPERT, Repo, git

SITES = [f"site-{n:03}" for n in range(120)]
EDITOR = {"EDIT", "LIMITED_EDITING", "PUBLISH", "REPUBLISH", "SEO", "BLOG", "BACKUPS"}
EDITOR |= {"CONTENT_LIBRARY"}
PEOPLE = """\
    anna: {email: anna@acme-bakery.example, name: Anna}
    ben: {email: ben@freelance.example, name: Ben}
    """


@pytest.fixture
def fake() -> Iterator[DudaFake]:
    with DudaFake() as fake:  # the wall clock: Duda's 10 a second, as Duda counts them
        fake.state.add_plan(1, "FREE")
        fake.state.add_plan(2, "PREMIUM")
        fake.state.add_sites(SITES, plan=1)
        fake.state.grant("ben@freelance.example", "site-007", sorted(EDITOR))  # as files say
        yield fake


@pytest.fixture
def repo(tmp_path: Path, fake: DudaFake) -> Repo:
    repo = Repo(tmp_path / "repo", {"NO_COLOR": "1", "COLUMNS": "200", **fake.environ})
    repo.write(
        "reconciler.yaml",
        f"""\
        expert: {EXPERT}
        platform:
          kind: duda
          url: {fake.url}
          plans: {{free: 1, premium: 2}}
        """,
    )
    repo.write("people.yaml", PEOPLE)
    for site in SITES:
        repo.site(site, f"id: {site}\nowner: expert\n")
    repo.site("site-005", "id: site-005\nowner: expert\ncollaborators: {anna: editor}\n")
    repo.site("site-007", "id: site-007\nowner: expert\ncollaborators: {ben: editor}\n")
    repo.site("site-012", "id: site-012\nowner: expert\npackage: premium\n")
    repo.site("site-110", "id: site-110\nowner: expert\ncollaborators: {ben: viewer}\n")
    repo.site("site-020", "id: site-020\nowner: anna\n")  # the client as owner
    billing = "id: site-030\nowner: expert\nbilling_contact: accounts@pixel.example\n"
    repo.site("site-030", billing)
    commit(repo, "the sites on Duda")
    return repo


def commit(repo: Repo, message: str) -> None:
    if not (repo.root / ".git").exists():
        git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", message)


def plan_json(repo: Repo) -> dict[str, Any]:
    result = repo.run("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def actions(plan: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(c["site"], c["action"], c["details"]) for c in plan["changes"]]


def blocked(plan: dict[str, Any]) -> dict[str, str]:
    return {note["site"]: note["message"] for note in plan["notes"] if note["kind"] == "blocked"}


def test_one_apply_converges_then_a_removal_and_a_role_change_apply(
    repo: Repo, fake: DudaFake
) -> None:
    first = plan_json(repo)

    assert actions(first) == [
        ("site-005", "collaborator.add", {"email": "anna@acme-bakery.example", "role": "editor"}),
        ("site-012", "package.purchase", {"package": "premium", "previous": "free",
                                          "feature_plan": True}),
        ("site-110", "collaborator.add", {"email": "ben@freelance.example", "role": "viewer"}),
    ]  # fmt: skip
    by_hand = blocked(first)
    assert sorted(by_hand) == ["site-020", "site-030"]
    assert "Transfer Site" in by_hand["site-020"]
    assert "24 hours" in by_hand["site-020"]
    assert "Client Billing" in by_hand["site-030"]
    invisible = [note for note in first["notes"] if "invisible" in note["message"]]
    assert len(invisible) == 1
    assert invisible[0]["site"] == "(platform)"
    assert any("no dry runs" in note["message"] for note in first["notes"])  # no preflight

    applied = repo.run("apply", "--yes")

    assert applied.exit_code == 0, applied.output
    assert "Apply: 3 done, 0 failed, 0 skipped." in applied.stdout
    assert fake.state.accounts["anna@acme-bakery.example"].account_type == "CUSTOMER"
    assert set(fake.state.granted("anna@acme-bakery.example", "site-005") or ()) == EDITOR
    assert fake.state.granted("ben@freelance.example", "site-110") == ("STATS_TAB",)
    assert fake.state.site_plan("site-012") == 2
    assert repo.run("plan", "--detailed-exitcode").exit_code == 0  # converged
    assert sorted(blocked(plan_json(repo))) == ["site-020", "site-030"]  # still by hand

    repo.site("site-005", "id: site-005\nowner: expert\ncollaborators: {}\n")
    repo.site("site-110", "id: site-110\nowner: expert\ncollaborators: {ben: editor}\n")
    commit(repo, "Anna is done on site-005; Ben edits site-110")
    second = plan_json(repo)

    assert actions(second) == [
        ("site-005", "collaborator.remove",
         {"email": "anna@acme-bakery.example", "previous_role": "editor"}),
        ("site-110", "collaborator.update",
         {"email": "ben@freelance.example", "role": "editor", "previous_role": "viewer",
          "raises": True}),
    ]  # fmt: skip
    assert repo.run("apply", "--yes").exit_code == 0
    assert fake.state.granted("anna@acme-bakery.example", "site-005") is None
    assert "anna@acme-bakery.example" in fake.state.accounts  # the account stays
    assert set(fake.state.granted("ben@freelance.example", "site-110") or ()) == EDITOR
    assert actions(plan_json(repo)) == []
    stats = fake.stats()
    assert stats.rate_limited <= 3  # paced at 8 a second: a few at most, each waited out
    assert stats.empty_grants == 0
    assert stats.count("GET /sites/multiscreen", 200) == 2 * 7  # two pages, seven listings


def test_status_shows_every_site_as_the_experts_and_paid_by_the_expert(repo: Repo) -> None:
    result = repo.run("status", "--format", "json")

    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)["sites"]}
    assert len(rows) == 120
    assert {row["paid_by"] for row in rows.values()} == {"expert"}
    assert rows["site-020"]["desired_owner"] == "anna@acme-bakery.example"
    assert rows["site-020"]["owner"] == EXPERT
    assert [note["kind"] for note in rows["site-020"]["notes"]] == ["blocked"]
    assert rows["site-030"]["billing_contact"] == EXPERT


def test_a_wrong_password_is_exit_1_naming_the_variables_and_no_secret(
    repo: Repo, fake: DudaFake
) -> None:
    repo.env["DUDA_API_PASS"] = "wrong-password-4711"

    result = repo.run("plan")

    assert result.exit_code == 1
    assert "401" in result.output
    assert "DUDA_API_USER and DUDA_API_PASS" in result.output
    assert "wrong-password-4711" not in result.output
    assert fake.password not in result.output
    assert fake.user not in result.output
    assert "Traceback" not in result.output


def test_a_missing_variable_is_exit_1_naming_it(repo: Repo) -> None:
    del repo.env["DUDA_API_USER"]

    result = repo.run("plan")

    assert result.exit_code == 1
    assert "the environment variable DUDA_API_USER is not set" in result.output


def test_import_writes_the_access_it_found_and_no_package_it_did_not_read(
    repo: Repo, fake: DudaFake
) -> None:
    (repo.root / "sites" / "site-050.yaml").unlink()
    fake.state.grant("anna@acme-bakery.example", "site-050", ["STATS_TAB"])

    result = repo.run("import", "site-050")

    assert result.exit_code == 0, result.output
    assert repo.read_site("site-050").splitlines() == [  # no schema/ here: no $schema line
        "id: site-050",
        "name: site-050",
        "owner: expert",
        "collaborators:",
        "  anna: viewer",
    ]


def test_import_keeps_the_name_a_file_gives_since_duda_has_none(repo: Repo) -> None:
    """Duda lists a site's name only as its id (or domain): a file's display name is the
    expert's words, which import must not replace with the id."""
    repo.site(
        "site-005",
        "id: site-005\nname: ACME Bakery\nowner: expert\ncollaborators: {anna: editor}\n",
    )

    result = repo.run("import", "site-005")

    assert result.exit_code == 0, result.output
    assert "name: ACME Bakery" in repo.read_site("site-005").splitlines()
