"""`plan --changed-since REF`: which site files changed between REF and the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_support import GitRepo

from reconciler.errors import ConfigError
from reconciler.review.gitrepo import GitRepository


def changed(repo: GitRepo, ref: str) -> set[str] | None:
    with GitRepository.open(repo.root) as repository:
        return repository.changed_site_ids(ref)


@pytest.fixture
def branch(repo: GitRepo) -> GitRepo:
    repo.git("branch", "base")
    repo.checkout("-b", "handover")
    return repo


def test_nothing_changed(branch: GitRepo) -> None:
    assert changed(branch, "main") == set()


def test_modified_added_and_deleted_files_against_a_branch_name(branch: GitRepo) -> None:
    branch.site("acme-bakery", "anna@acme-bakery.example")
    branch.site("harbor-yoga")
    branch.remove("sites/bistro-verde.yaml")
    branch.commit("Hand over ACME, add Harbor Yoga, drop Bistro Verde")

    assert changed(branch, "main") == {"acme-bakery", "harbor-yoga", "bistro-verde"}


def test_against_a_sha_and_a_short_sha(branch: GitRepo) -> None:
    base = branch.head()
    branch.site("acme-bakery", "anna@acme-bakery.example")
    branch.commit("Hand over ACME")

    assert changed(branch, base) == {"acme-bakery"}
    assert changed(branch, base[:10]) == {"acme-bakery"}
    assert changed(branch, "HEAD") == set()


def test_a_renamed_file_counts_under_both_names(branch: GitRepo) -> None:
    branch.git("mv", "sites/bistro-verde.yaml", "sites/bistro-verde-2.yaml")
    branch.commit("Rename Bistro Verde")

    assert changed(branch, "main") == {"bistro-verde", "bistro-verde-2"}


def test_uncommitted_staged_and_untracked_files_count(branch: GitRepo) -> None:
    branch.site("acme-bakery", "anna@acme-bakery.example")  # modified, not staged
    branch.site("harbor-yoga")  # untracked
    branch.site("old-shop")
    branch.git("add", "sites/old-shop.yaml")  # staged

    assert changed(branch, "main") == {"acme-bakery", "harbor-yoga", "old-shop"}


def test_a_file_deleted_in_the_working_tree_counts(branch: GitRepo) -> None:
    branch.remove("sites/acme-bakery.yaml")

    assert changed(branch, "main") == {"acme-bakery"}


def test_only_site_files_count(branch: GitRepo) -> None:
    branch.write("README.md", "# sites\n")
    branch.write("sites/notes.txt", "not a site\n")
    branch.write("sites/archive/old.yaml", "id: old\n")
    branch.write("sites-old/acme.yaml", "id: acme\n")
    branch.write(".reconciler/ignored.yaml", "x: 1\n")
    branch.write(".gitignore", ".reconciler/\n")
    branch.site("pixel-studio")
    branch.write("sites/pixel-studio.yml", "id: pixel-studio\n")

    assert changed(branch, "main") == {"pixel-studio"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("people.yaml", "tom: {email: tom@elsewhere.example}\n"),
        ("reconciler.yaml", "expert: studio@pixel.example\npolicy: {max_removals: 1}\n"),
    ],
)
def test_people_or_config_changes_plan_every_site(branch: GitRepo, name: str, text: str) -> None:
    """A handle's new e-mail changes every site that uses it: the plan must show them."""
    branch.write(name, text)
    branch.commit(f"Change {name}")

    assert changed(branch, "main") is None


def test_changes_that_reached_the_base_later_are_not_this_branchs(branch: GitRepo) -> None:
    branch.site("acme-bakery", "anna@acme-bakery.example")
    branch.commit("Hand over ACME", author="carol")
    branch.checkout("main")
    branch.site("bistro-verde", collaborators={})
    branch.commit("Bistro Verde: nobody else", author="bob")
    branch.checkout("handover")

    assert changed(branch, "main") == {"acme-bakery"}


def test_a_branch_that_merged_its_base_shows_only_its_own_changes(branch: GitRepo) -> None:
    branch.site("acme-bakery", "anna@acme-bakery.example")
    branch.commit("Hand over ACME", author="carol")
    branch.checkout("main")
    branch.site("bistro-verde", collaborators={})
    branch.commit("Bistro Verde: nobody else", author="bob")
    branch.checkout("handover")
    branch.merge("main", "Merge main into handover")

    assert changed(branch, "main") == {"acme-bakery"}
    assert changed(branch, "base") == {"acme-bakery", "bistro-verde"}


def test_after_the_merge_the_merge_commit_shows_the_branch(branch: GitRepo) -> None:
    branch.site("acme-bakery", "anna@acme-bakery.example")
    branch.commit("Hand over ACME", author="carol")
    branch.checkout("main")
    before = branch.head()
    branch.merge("handover", "Merge pull request #12 from pixel/handover")

    assert changed(branch, before) == {"acme-bakery"}
    assert changed(branch, "HEAD~1") == {"acme-bakery"}


def test_an_unknown_ref_is_a_clear_error(branch: GitRepo) -> None:
    with pytest.raises(ConfigError) as raised:
        changed(branch, "origin/does-not-exist")

    assert raised.value.message.startswith("unknown git ref 'origin/does-not-exist'")
    assert "fetched with enough history" in raised.value.message


def test_an_unknown_sha_is_a_clear_error(branch: GitRepo) -> None:
    with pytest.raises(ConfigError, match="unknown git ref '0123456789abcdef"):
        changed(branch, "0123456789abcdef0123456789abcdef01234567")


def test_a_folder_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not in a git repository"):
        GitRepository.open(tmp_path)


def test_a_root_below_the_top_of_the_repository(tmp_path: Path) -> None:
    outer = GitRepo(tmp_path / "mono")
    outer.write("infra/sites/acme-bakery.yaml", "id: acme-bakery\nowner: expert\n")
    outer.write("sites/elsewhere.yaml", "id: elsewhere\n")
    outer.commit("Start")
    outer.write("infra/sites/acme-bakery.yaml", "id: acme-bakery\nowner: anna@a.example\n")
    outer.write("infra/sites/new.yaml", "id: new\n")
    outer.write("sites/elsewhere.yaml", "id: elsewhere\nname: x\n")

    with GitRepository.open(outer.root / "infra") as repository:
        assert repository.changed_site_ids("HEAD") == {"acme-bakery", "new"}
