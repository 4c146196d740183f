"""`reconciler import` and `reconciler fmt` end to end: the CLI, the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adopt_support import COMMENTED_SITE, COMMENTS, EXPERT, Repo, big_seed, git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """reconciler.yaml (expert studio@pixel.example), people.yaml (``tom``, ``anna``),
    an empty sites/ and no sandbox seed yet (instead of e2e's example repository)."""
    return make_repo(tmp_path / "repo")


SMALL_SEED = {
    "accounts": [
        {"email": EXPERT, "kind": "expert", "token": "studio-token"},
        {"email": "anna@acme-bakery.example", "kind": "customer"},
        {"email": "tom@freelance.example", "kind": "customer"},
    ],
    "sites": [
        {
            "id": "acme-bakery",
            "name": "ACME Bakery & Café",
            "owner": "anna@acme-bakery.example",
            "package": "premium",
            "collaborators": {EXPERT: "admin", "tom@freelance.example": "viewer"},
        },
        {"id": "old-shop", "name": "Old Shop", "owner": EXPERT, "collaborators": {}},
    ],
}


def plan_json(repo: Repo) -> dict[str, object]:
    result = repo.run("plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan: dict[str, object] = json.loads(result.stdout)
    return plan


def test_import_all_of_200_sites_then_plan_is_empty_and_a_second_import_changes_nothing(
    repo: Repo,
) -> None:
    repo.seed(big_seed(200))
    with repo.start_sandbox() as store, store.transaction() as tx:
        tx.start_transfer(EXPERT, "pending-handover", "anna@acme-bakery.example", True, None)

    first = repo.run("import", "--all")

    assert first.exit_code == 0, first.output
    assert "Imported: 201 written, 0 unchanged." in first.stdout
    assert (
        "pending-handover: waiting: the transfer to anna@acme-bakery.example pending on the "
        "platform is kept"
    ) in first.stdout
    assert len(list((repo.root / "sites").glob("*.yaml"))) == 201
    pending_file = repo.read_site("pending-handover")
    assert "owner: anna  # handover pending since " in pending_file  # what plan waits for
    assert f"  {EXPERT}: editor" in pending_file  # the transfer keeps the expert on
    assert "owner: expert" in repo.read_site("site-000")
    assert "  tom: editor" in repo.read_site("site-000")  # a people.yaml handle
    assert "  ines@freelance.example: editor" in repo.read_site("site-001")
    assert "billing_contact: billing@client3.example" in repo.read_site("site-003")
    assert "billing_contact: owner2@client2.example" in repo.read_site("site-002")  # the owner's
    assert "  anna: viewer" in repo.read_site("site-003")
    assert "package: premium" in repo.read_site("site-003")

    assert repo.run("validate").exit_code == 0
    assert repo.run("fmt", "--check").exit_code == 0  # import writes the canonical layout
    plan = plan_json(repo)
    changes = plan["changes"]
    assert isinstance(changes, list)
    assert changes == []
    assert not [n for n in plan["notes"] if n["kind"] == "unmanaged"]  # type: ignore[attr-defined]

    git(repo.root, "init", "--quiet")
    git(repo.root, "add", "sites")
    git(repo.root, "commit", "--quiet", "-m", "Import the sites")
    second = repo.run("import", "--all")

    assert second.exit_code == 0, second.output
    assert "Imported: 0 written, 201 unchanged." in second.stdout
    assert git(repo.root, "status", "--porcelain", "--", "sites") == ""


def test_a_pending_transfer_is_imported_as_the_handover_it_is_and_the_plan_is_empty(
    repo: Repo,
) -> None:
    """After import, plan is empty: the file asks for the handover under way, says so in a
    comment, and the import says how to cancel it instead."""
    repo.seed(SMALL_SEED)
    repo.write("people.yaml", "tom: {email: tom@freelance.example}\n")
    with repo.start_sandbox() as store, store.transaction() as tx:
        tx.start_transfer(EXPERT, "old-shop", "tom@freelance.example", False, None)

    imported = repo.run("import", "old-shop")
    planned = repo.run("plan", "--format", "json", "--detailed-exitcode")

    assert imported.exit_code == 0, imported.output
    assert (
        "old-shop: waiting: the transfer to tom@freelance.example pending on the platform is "
        "kept: the file names tom@freelance.example as the owner, and `reconciler plan` waits "
        "for the acceptance; write `owner: expert` instead to cancel the transfer"
    ) in imported.stdout
    text = repo.read_site("old-shop")
    assert "owner: tom  # handover pending since " in text
    assert f"; {EXPERT} owns the site until then\n" in text
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["changes"] == []
    assert [n["kind"] for n in plan["notes"] if n["site"] == "old-shop"] == ["waiting"]


def test_a_transfer_the_client_started_is_imported_as_pending_too(repo: Repo) -> None:
    repo.seed(SMALL_SEED)
    with repo.start_sandbox() as store, store.transaction() as tx:
        tx.start_transfer("anna@acme-bakery.example", "acme-bakery", EXPERT, True, None)

    imported = repo.run("import", "acme-bakery")
    planned = repo.run("plan", "--format", "json", "--detailed-exitcode")

    assert imported.exit_code == 0, imported.output
    text = repo.read_site("acme-bakery")
    assert "owner: expert  # handover pending since " in text
    assert "  anna: editor\n" in text  # anna stays on, as the transfer says
    assert EXPERT not in text.split("collaborators:")[1]  # the owner is no collaborator
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["changes"] == []


def test_import_of_a_named_site_updates_the_hand_written_file_in_place(repo: Repo) -> None:
    repo.seed(SMALL_SEED)
    repo.write("sites/acme-bakery.yaml", COMMENTED_SITE)

    result = repo.run("import", "acme-bakery")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "wrote sites/acme-bakery.yaml",
        "Imported: 1 written, 0 unchanged.",
    ]
    text = repo.read_site("acme-bakery")
    assert [c for c in COMMENTS if c not in text] == []
    assert "name: ACME Bakery & Café" in text
    assert "owner: anna " in text  # the handle, as written
    assert "  studio@pixel.example: admin " in text
    assert "  tom: viewer " in text
    assert not (repo.root / "sites" / "old-shop.yaml").exists()  # only the named site
    assert repo.run("validate").exit_code == 0
    assert repo.run("plan", "--detailed-exitcode").exit_code == 0

    again = repo.run("import", "acme-bakery")
    assert "unchanged sites/acme-bakery.yaml" in again.stdout
    assert repo.read_site("acme-bakery") == text


def test_import_of_an_unknown_site_is_an_error_that_writes_nothing(repo: Repo) -> None:
    repo.seed(SMALL_SEED)

    result = repo.run("import", "old-shop", "no-such-site")

    assert result.exit_code == 1
    assert "error: not on the platform, or not visible to studio@pixel.example: no-such-site" in (
        result.stderr
    )
    assert list((repo.root / "sites").iterdir()) == []


@pytest.mark.parametrize("args", [(), ("--all", "old-shop")], ids=["neither", "both"])
def test_import_needs_sites_or_all_but_not_both(repo: Repo, args: tuple[str, ...]) -> None:
    result = repo.run("import", *args)

    assert result.exit_code == 1  # DESIGN.md section 7: 1 for invalid input
    assert "Error: name the sites to import, or pass --all (not both)" in result.stderr
    assert not repo.db.exists()  # refused before starting the platform


BAD_FILES = {
    "a-list": b"- id: a-list\n- owner: expert\n",
    "not-yaml": b"id: not-yaml\nowner: [expert\n",
    "latin-1": b"id: latin-1\nname: Caf\xe9\nowner: expert\n",
}


@pytest.mark.parametrize("site_id", sorted(BAD_FILES))
def test_import_over_an_unreadable_file_is_an_error_not_a_crash(repo: Repo, site_id: str) -> None:
    repo.seed(
        {
            "accounts": [{"email": EXPERT, "kind": "expert"}],
            "sites": [
                {"id": "aaa-first", "name": "A", "owner": EXPERT},
                {"id": site_id, "name": "Bad", "owner": EXPERT},
            ],
        }
    )
    repo.write(f"sites/{site_id}.yaml", BAD_FILES[site_id])

    result = repo.run("import", "--all")

    assert result.exit_code == 1, result.output
    assert f"error: sites/{site_id}.yaml " in result.stderr
    assert "Traceback" not in result.output
    assert repo.site_path(site_id).read_bytes() == BAD_FILES[site_id]
    assert not repo.site_path("aaa-first").exists()  # nothing half done


TIDY = "id: old-shop\nname: Old Shop\nowner: expert  # done\ncollaborators: {}\n"


def test_fmt_check_on_a_tidy_tree_prints_nothing(repo: Repo) -> None:
    repo.write("sites/old-shop.yaml", TIDY)

    result = repo.run("fmt", "--check")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_fmt_check_lists_what_would_change_and_fmt_changes_it(repo: Repo) -> None:
    repo.write("sites/old-shop.yaml", TIDY)
    repo.write(
        "sites/acme-bakery.yaml", COMMENTED_SITE.replace("owner: anna", "owner: Anna@X.example")
    )
    before = repo.snapshot()

    check = repo.run("fmt", "--check")

    assert check.exit_code == 1
    assert check.stdout == "would reformat sites/acme-bakery.yaml\n"
    assert "1 file(s) would change; run `reconciler fmt`" in check.stderr
    assert repo.snapshot() == before

    done = repo.run("fmt")
    assert (done.exit_code, done.stdout) == (0, "reformatted sites/acme-bakery.yaml\n")
    text = repo.read_site("acme-bakery")
    assert "owner: anna@x.example" in text
    assert [c for c in COMMENTS if c not in text] == []
    assert repo.read_site("old-shop") == TIDY
    assert repo.run("fmt", "--check").exit_code == 0
    assert repo.run("fmt").stdout == ""


@pytest.mark.parametrize("site_id", sorted(BAD_FILES))
def test_fmt_reports_an_unreadable_file_and_leaves_every_file_alone(
    repo: Repo, site_id: str
) -> None:
    repo.write("sites/old-shop.yaml", TIDY)
    repo.write(f"sites/{site_id}.yaml", BAD_FILES[site_id])
    before = repo.snapshot()

    for args in (("fmt",), ("fmt", "--check")):
        result = repo.run(*args)

        assert result.exit_code == 1, result.output
        assert f"skipped sites/{site_id}.yaml: sites/{site_id}.yaml " in result.stderr
        assert "Traceback" not in result.output
        assert result.stdout == ""
        assert repo.snapshot() == before


def test_a_file_that_asks_for_the_pending_handover_is_kept_and_the_plan_is_empty(
    repo: Repo,
) -> None:
    repo.seed(SMALL_SEED)
    written = "# handing over\nid: old-shop\nname: Old Shop\nowner: tom\ncollaborators: {}\n"
    repo.write("people.yaml", "tom: {email: tom@freelance.example}\n")
    repo.write("sites/old-shop.yaml", written)
    with repo.start_sandbox() as store, store.transaction() as tx:
        tx.start_transfer(EXPERT, "old-shop", "tom@freelance.example", False, None)

    imported = repo.run("import", "old-shop")

    assert imported.exit_code == 0, imported.output
    assert "unchanged sites/old-shop.yaml" in imported.stdout
    assert "kept as written: it hands the site over to tom@freelance.example" in imported.stdout
    assert repo.read_site("old-shop") == written
    assert plan_json(repo)["changes"] == []


def test_keys_a_file_leaves_out_stay_out(repo: Repo) -> None:
    """A key left out is not managed: importing must not start managing it."""
    repo.seed(SMALL_SEED)
    repo.write("sites/acme-bakery.yaml", "id: acme-bakery\nowner: anna@acme-bakery.example\n")

    imported = repo.run("import", "acme-bakery")

    assert imported.exit_code == 0, imported.output
    assert repo.read_site("acme-bakery") == ("id: acme-bakery\nowner: anna@acme-bakery.example\n")
    assert plan_json(repo)["changes"] == []


def test_after_import_the_plan_only_removes_people_who_left(repo: Repo) -> None:
    repo.seed(SMALL_SEED)
    repo.write(
        "people.yaml",
        "tom: {email: tom@freelance.example, left: 2026-11-27}\n"
        "anna: {email: anna@acme-bakery.example}\n",
    )

    imported = repo.run("import", "--all")
    plan = plan_json(repo)

    assert imported.exit_code == 0, imported.output
    assert "  tom: viewer" in repo.read_site("acme-bakery")  # the handle may stay
    assert [(c["site"], c["action"], c["details"]["email"]) for c in plan["changes"]] == [  # type: ignore[attr-defined]
        ("acme-bakery", "collaborator.remove", "tom@freelance.example")
    ]
