"""What a valid repository resolves to: the desired state the planner works from."""

from __future__ import annotations

import pytest
from desired_support import EXPERT, Repo

from reconciler.desired.loader import load_repository
from reconciler.desired.problems import ValidationFailed
from reconciler.model import Location, Package, Role


def test_handles_expert_and_case_are_resolved_to_lower_case_emails(repo: Repo) -> None:
    repo.site(
        "a",
        """\
        id: a
        name: ACME Bakery
        owner: anna
        billing_contact: Accounts@ACME-Bakery.example
        collaborators:
          expert: editor
          tom: viewer
          Marco@Bistro.example: admin
        package: premium
        """,
    )

    site = load_repository(repo.root).sites["a"]

    assert site.owner == "anna@acme-bakery.example"
    assert site.billing_contact == "accounts@acme-bakery.example"
    assert dict(site.collaborators or {}) == {
        EXPERT: Role.EDITOR,
        "tom@freelance.example": Role.VIEWER,
        "marco@bistro.example": Role.ADMIN,
    }
    assert site.package is Package.PREMIUM
    assert site.name == "ACME Bakery"


def test_owner_expert_is_the_configured_expert(repo: Repo) -> None:
    repo.write("reconciler.yaml", "expert: Agency@Studio.example\n")
    repo.site("a", "id: a\nowner: expert\n")

    site = load_repository(repo.root).sites["a"]

    assert site.owner == "agency@studio.example"
    assert site.effective_billing_contact == "agency@studio.example"


def test_a_key_left_out_is_not_managed(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")

    site = load_repository(repo.root).sites["a"]

    assert site.collaborators is None
    assert site.package is None
    assert site.billing_contact is None
    assert site.effective_billing_contact == EXPERT


def test_empty_collaborators_means_nobody_but_the_owner(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\ncollaborators: {}\n")

    site = load_repository(repo.root).sites["a"]

    assert site.collaborators is not None
    assert dict(site.collaborators) == {}


def test_every_key_keeps_where_it_was_written(repo: Repo) -> None:
    repo.site("a", "# modeline\nid: a\nowner: expert\ncollaborators:\n  tom: viewer\n")

    state = load_repository(repo.root)
    site = state.sites["a"]

    assert site.source == Location(file="sites/a.yaml", line=2, column=1)
    assert site.location_of("owner") == Location(file="sites/a.yaml", line=3, column=1)
    assert site.location_of("collaborators.tom") == Location(file="sites/a.yaml", line=5, column=3)
    assert state.site_files == {"a": "sites/a.yaml"}


def test_an_invalid_repository_raises_with_every_problem(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: bob\n")
    repo.site("b", "id: b\nowner: expert\ncolour: red\n")

    with pytest.raises(ValidationFailed) as raised:
        load_repository(repo.root)

    assert [str(p.location) for p in raised.value.problems] == [
        "sites/a.yaml:2:8",
        "sites/b.yaml:3:1",
    ]
    assert raised.value.message == (
        "2 errors in 2 files; fix them and run `reconciler validate` again"
    )


def test_warnings_do_not_stop_loading(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")
    repo.site("notes.txt", "notes\n")

    state = load_repository(repo.root)

    assert list(state.sites) == ["a"]
    assert [p.message for p in state.warnings] == ["ignored: site files are sites/<site-id>.yaml"]
