"""`apply` refuses uncommitted desired state, records each apply as a git note, and finds
the commit that brought a site's current owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_support import GitRepo

from reconciler.errors import ConfigError
from reconciler.review.gitrepo import NOTES_REF, GitRepository


def test_a_clean_working_tree_has_nothing_uncommitted(opened: GitRepository) -> None:
    assert opened.uncommitted_desired_state() == []


def test_every_kind_of_uncommitted_desired_state_is_listed(
    repo: GitRepo, opened: GitRepository
) -> None:
    repo.site("acme-bakery", "anna@acme-bakery.example")  # modified
    repo.site("harbor-yoga")  # untracked
    repo.site("old-shop")
    repo.git("add", "sites/old-shop.yaml")  # staged
    repo.remove("sites/bistro-verde.yaml")  # deleted
    repo.write("reconciler.yaml", "expert: other@pixel.example\n")
    repo.write("people.yaml", "tom: {email: tom@freelance.example}\n")

    assert opened.uncommitted_desired_state() == [
        "people.yaml",
        "reconciler.yaml",
        "sites/acme-bakery.yaml",
        "sites/bistro-verde.yaml",
        "sites/harbor-yoga.yaml",
        "sites/old-shop.yaml",
    ]


def test_a_staged_rename_lists_both_names(repo: GitRepo, opened: GitRepository) -> None:
    repo.git("mv", "sites/bistro-verde.yaml", "sites/bistro.yaml")

    assert opened.uncommitted_desired_state() == ["sites/bistro-verde.yaml", "sites/bistro.yaml"]


def test_other_files_do_not_count(repo: GitRepo, opened: GitRepository) -> None:
    repo.write("README.md", "# changed\n")
    repo.write("sites-archive/acme-bakery.yaml", "id: acme-bakery\n")
    repo.write("sites.yaml.bak", "x\n")
    repo.write(".gitignore", "/.reconciler/\n")
    repo.git("add", ".gitignore")
    repo.write(".reconciler/sandbox.db", "ignored\n")

    assert opened.uncommitted_desired_state() == []


def test_notes_are_written_appended_and_read_back(repo: GitRepo, opened: GitRepository) -> None:
    head = opened.head_sha()
    assert head == repo.head()
    assert repo.note(head) is None

    opened.add_note(head, "2024-03-02T10:00:00Z apply: 2 done, 0 failed")
    opened.add_note(head, "2024-03-02T11:00:00Z apply: 0 done, 1 failed\nfailed: acme-bakery")

    assert repo.note(head) == (
        "2024-03-02T10:00:00Z apply: 2 done, 0 failed\n\n"
        "2024-03-02T11:00:00Z apply: 0 done, 1 failed\nfailed: acme-bakery"
    )
    assert repo.git("notes", "--ref", NOTES_REF, "list", head)
    assert repo.git("notes", "list") == ""  # not mixed into the default notes


def test_a_note_on_an_unknown_commit_is_a_clear_error(opened: GitRepository) -> None:
    with pytest.raises(
        ConfigError, match="could not record the git note on 0123456789ab: no such commit"
    ):
        opened.add_note("0123456789abcdef0123456789abcdef01234567", "applied")


def test_a_repository_without_commits(tmp_path: Path) -> None:
    empty = GitRepo(tmp_path / "empty")
    empty.site("acme-bakery")

    with GitRepository.open(empty.root) as repository:
        assert repository.head_sha() is None
        assert repository.uncommitted_desired_state() == ["sites/acme-bakery.yaml"]
        assert repository.history("acme-bakery") == []
        assert repository.last_commit_touching("acme-bakery") is None
        assert repository.last_owner_change("acme-bakery") is None


def test_last_commit_touching_and_last_owner_change(repo: GitRepo, opened: GitRepository) -> None:
    first = repo.head()
    repo.site("acme-bakery", "anna@acme-bakery.example")
    handover = repo.commit("Hand ACME over", author="carol")
    repo.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    later = repo.commit("Nobody else on ACME", author="bob")
    repo.write("README.md", "unrelated\n")
    repo.commit("Docs")

    assert opened.last_commit_touching("acme-bakery") == later
    assert opened.last_owner_change("acme-bakery") == handover
    assert opened.last_owner_change("bistro-verde") == first
    assert opened.last_commit_touching("nope") is None
    assert opened.last_owner_change("nope") is None


def test_no_owner_commit_once_the_file_is_deleted(repo: GitRepo, opened: GitRepository) -> None:
    repo.remove("sites/acme-bakery.yaml")
    deleted = repo.commit("Stop managing ACME")

    assert opened.last_owner_change("acme-bakery") is None
    assert opened.last_commit_touching("acme-bakery") == deleted
