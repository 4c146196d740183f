"""`reconciler history SITE`: owner, billing contact and collaborators over time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner
from git_support import GitRepo

from reconciler.cli import cli
from reconciler.review.gitrepo import GitRepository
from reconciler.review.history import HistoryEntry, tracked_state

ALICE = "Alice Expert <alice@pixel.example>"
BOB = "Bob Reviewer <bob@pixel.example>"
CAROL = "Carol Client <carol@acme-bakery.example>"


def history(repo: GitRepo, site_id: str) -> list[HistoryEntry]:
    with GitRepository.open(repo.root) as repository:
        return repository.history(site_id)


def summary(entries: list[HistoryEntry]) -> list[tuple[str, str, str, list[str]]]:
    return [(f"{e.date:%m-%d}", e.author, e.subject, list(e.changes)) for e in entries]


def test_several_authors_one_entry_per_commit_that_changed_something(repo: GitRepo) -> None:
    repo.site(
        "acme-bakery",
        "expert",
        name="ACME Bakery Ltd",
        collaborators={"tom@freelance.example": "viewer"},
    )
    repo.commit("Rename ACME (nothing tracked changes)", author="bob")
    repo.site(
        "acme-bakery",
        "anna@acme-bakery.example",
        collaborators={"tom@freelance.example": "viewer", "studio@pixel.example": "editor"},
    )
    repo.commit("Hand ACME over to Anna", author="carol")
    repo.site("bistro-verde", collaborators={})
    repo.commit("Bistro Verde: nobody else", author="bob")
    repo.site(
        "acme-bakery",
        "anna@acme-bakery.example",
        billing_contact="accounts@acme-bakery.example",
        collaborators={"tom@freelance.example": "editor", "studio@pixel.example": "editor"},
    )
    repo.commit("ACME: invoices to accounts, Tom edits", author="bob")
    repo.site(
        "acme-bakery",
        "anna@acme-bakery.example",
        billing_contact="accounts@acme-bakery.example",
        collaborators={"studio@pixel.example": "editor"},
    )
    sha = repo.commit("Tom left", author="alice")

    entries = history(repo, "acme-bakery")

    assert summary(entries) == [
        (
            "03-01",
            ALICE,
            "Start managing the sites",
            ["file created: owner expert, collaborators tom@freelance.example (viewer)"],
        ),
        (
            "03-03",
            CAROL,
            "Hand ACME over to Anna",
            [
                "owner: expert -> anna@acme-bakery.example",
                "collaborator added: studio@pixel.example (editor)",
            ],
        ),
        (
            "03-05",
            BOB,
            "ACME: invoices to accounts, Tom edits",
            [
                "billing_contact: - -> accounts@acme-bakery.example",
                "collaborator tom@freelance.example: viewer -> editor",
            ],
        ),
        ("03-06", ALICE, "Tom left", ["collaborator removed: tom@freelance.example"]),
    ]
    assert entries[-1].sha == sha
    assert entries[-1].date == datetime(2024, 3, 6, 10, 0, tzinfo=UTC)
    at_head = (repo.root / "sites/acme-bakery.yaml").read_text(encoding="utf-8")
    assert tracked_state(at_head, "sites/acme-bakery.yaml") == {
        "owner": "anna@acme-bakery.example",
        "billing_contact": "accounts@acme-bakery.example",
        "collaborators": {"studio@pixel.example": "editor"},
        "ask_again_after": None,
    }


def test_deleted_and_created_again(repo: GitRepo) -> None:
    repo.remove("sites/bistro-verde.yaml")
    repo.commit("Stop managing Bistro Verde", author="bob")
    repo.site("bistro-verde", "marco@bistro-verde.example")
    repo.commit("Manage Bistro Verde again", author="carol")

    assert summary(history(repo, "bistro-verde")) == [
        ("03-01", ALICE, "Start managing the sites", ["file created: owner expert"]),
        (
            "03-02",
            BOB,
            "Stop managing Bistro Verde",
            ["file deleted: the site is no longer managed"],
        ),
        (
            "03-03",
            CAROL,
            "Manage Bistro Verde again",
            ["file created: owner marco@bistro-verde.example"],
        ),
    ]


def test_a_merge_keeps_each_change_with_the_commit_that_made_it(repo: GitRepo) -> None:
    repo.checkout("-b", "handover")
    repo.site(
        "acme-bakery", "anna@acme-bakery.example", collaborators={"tom@freelance.example": "viewer"}
    )
    repo.commit("Hand ACME over to Anna", author="carol")
    repo.checkout("main")
    repo.write(
        "sites/acme-bakery.yaml",
        """\
        id: acme-bakery
        name: Acme-Bakery
        owner: expert
        collaborators:
          tom@freelance.example: viewer
          lena@harbor-yoga.example: viewer
        """,
    )
    repo.commit("Preview for Lena", author="bob")
    repo.merge("handover", "Merge pull request #12 from pixel/handover", author="alice")

    assert summary(history(repo, "acme-bakery")) == [
        (
            "03-01",
            ALICE,
            "Start managing the sites",
            ["file created: owner expert, collaborators tom@freelance.example (viewer)"],
        ),
        ("03-02", CAROL, "Hand ACME over to Anna", ["owner: expert -> anna@acme-bakery.example"]),
        (
            "03-03",
            BOB,
            "Preview for Lena",
            ["collaborator added: lena@harbor-yoga.example (viewer)"],
        ),
    ]


def test_a_merge_that_resolves_a_conflict_shows_its_own_choice(repo: GitRepo) -> None:
    repo.checkout("-b", "handover")
    repo.site("bistro-verde", "marco@bistro-verde.example")
    repo.commit("Hand Bistro Verde to Marco", author="carol")
    repo.checkout("main")
    repo.site("bistro-verde", "giulia@bistro-verde.example")
    repo.commit("Hand Bistro Verde to Giulia", author="bob")
    repo.git("merge", "--no-commit", "handover", check=False)
    repo.site("bistro-verde", "owner@bistro-verde.example")
    repo.commit("Merge handover: the owner is the company", author="alice")

    assert summary(history(repo, "bistro-verde"))[-1] == (
        "03-04",
        ALICE,
        "Merge handover: the owner is the company",
        ["owner: giulia@bistro-verde.example -> owner@bistro-verde.example"],
    )


def test_no_history_for_an_unknown_site(repo: GitRepo) -> None:
    assert history(repo, "nope") == []


def test_the_cli_prints_the_entries(repo: GitRepo) -> None:
    repo.site(
        "acme-bakery", "anna@acme-bakery.example", collaborators={"tom@freelance.example": "viewer"}
    )
    sha = repo.commit("Hand ACME over to Anna", author="carol")

    result = CliRunner().invoke(cli, ["--root", str(repo.root), "history", "acme-bakery"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-3:] == [
        f"{sha[:10]}  2024-03-02 10:00  {CAROL}",
        "    Hand ACME over to Anna",
        "    - owner: expert -> anna@acme-bakery.example",
    ]


def test_the_cli_prints_json(repo: GitRepo) -> None:
    result = CliRunner().invoke(
        cli, ["--root", str(repo.root), "history", "bistro-verde", "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)["commits"]
    assert entry["author"] == ALICE
    assert entry["date"] == "2024-03-01T10:00:00+00:00"
    assert entry["changes"] == ["file created: owner expert"]


def test_the_cli_names_an_unknown_site(repo: GitRepo) -> None:
    result = CliRunner().invoke(cli, ["--root", str(repo.root), "history", "nope"])

    assert result.exit_code == 1
    assert "no commit touches sites/nope.yaml" in result.output


def test_asking_again_after_a_decline_is_an_entry_of_its_own(repo: GitRepo) -> None:
    # The commit that adds ask_again_after: is the one the approval gate reviews as a new
    # handover, so the site's history must show it, as it shows the owner: line.
    handover = "owner: anna@acme-bakery.example\ncollaborators: {}\n"
    repo.write("sites/acme-bakery.yaml", f"id: acme-bakery\n{handover}")
    repo.commit("Hand ACME over to Anna")
    repo.write(
        "sites/acme-bakery.yaml",
        f"id: acme-bakery\n{handover}ask_again_after: tr_5d1c0e3b9a2f4c6e8d10\n",
    )
    repo.commit("Ask Anna again after a call", author="bob")
    repo.write("sites/acme-bakery.yaml", f"id: acme-bakery\n{handover}")
    repo.commit("Anna said no again: stop asking", author="carol")

    assert summary(history(repo, "acme-bakery"))[-2:] == [
        (
            "03-03",
            BOB,
            "Ask Anna again after a call",
            ["ask_again_after: tr_5d1c0e3b9a2f4c6e8d10 (asks the recipient again after it)"],
        ),
        ("03-04", CAROL, "Anna said no again: stop asking", ["ask_again_after removed"]),
    ]
