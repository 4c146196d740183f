"""`validate` and people who left (people.yaml `left:`), and the cap of a file's package."""

from __future__ import annotations

from datetime import date

from desired_support import PEOPLE, Repo

from reconciler.desired.loader import inspect_repository, load_repository

LEFT_PEOPLE = PEOPLE.replace(
    "  name: Tom Freelance\n", "  name: Tom Freelance\n  left: 2026-11-27\n"
)


def test_a_left_persons_handle_is_still_valid_in_site_files(repo: Repo) -> None:
    repo.write("people.yaml", LEFT_PEOPLE)
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n")

    result = repo.validate()

    assert (result.exit_code, result.lines) == (0, ["1 site file valid"])


def test_a_left_person_is_not_among_the_desired_collaborators(repo: Repo) -> None:
    repo.write("people.yaml", LEFT_PEOPLE)
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n  anna: editor\n")

    site = load_repository(repo.root).sites["a"]

    assert dict(site.collaborators or {}) == {"anna@acme-bakery.example": "editor"}
    assert {email: day.isoformat() for email, day in site.departed.items()} == {
        "tom@freelance.example": "2026-11-27"
    }


def test_left_must_be_a_date(repo: Repo) -> None:
    repo.write("people.yaml", PEOPLE.replace("  name: Tom Freelance\n", "  left: soon\n"))

    result = repo.validate()

    assert (result.exit_code, result.lines) == (
        1,
        [
            "people.yaml:3:9: error: tom.left: must be a date such as 2026-11-27, not 'soon'",
            "1 error in 1 file",
        ],
    )


def test_more_collaborators_than_the_files_package_allows_is_a_warning(repo: Repo) -> None:
    repo.site(
        "a",
        "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n  anna: editor\n"
        "  max@freelance.example: viewer\npackage: free\n",
    )

    result = repo.validate()

    assert (result.exit_code, result.lines) == (
        0,
        [
            "sites/a.yaml:3:1: warning: 3 collaborators, but the free package allows 2; "
            "the platform refuses the rest: list at most 2 or name a package that allows more",
            "1 site file valid, 1 warning",
        ],
    )


def test_within_the_cap_or_without_a_package_nothing_is_said(repo: Repo) -> None:
    three = "collaborators:\n  tom: viewer\n  anna: editor\n  max@freelance.example: viewer\n"
    repo.site("a", f"id: a\nowner: expert\n{three}package: premium\n")
    repo.site("b", f"id: b\nowner: expert\n{three}")

    assert repo.validate().lines == ["2 site files valid"]


def test_a_left_day_later_than_today_is_refused_at_its_line(repo: Repo) -> None:
    """Offboarding takes effect when the line is merged: a future day would remove the
    person at once, silently, so validate refuses it (DESIGN section 3)."""
    repo.write("people.yaml", PEOPLE.replace("  name: Tom Freelance\n", "  left: 2999-01-01\n"))
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0].startswith(
        "people.yaml:3:9: error: tom.left: 2999-01-01 is later than today ("
    )
    assert result.lines[0].endswith(
        ", UTC); offboarding takes effect when this line is merged, so write the day once "
        "it has come (leaving on a future day cannot be scheduled)"
    )
    assert result.lines[1:] == ["1 error in 1 file"]  # tom stays known: no cascade


def test_left_is_compared_with_today_in_utc(repo: Repo) -> None:
    repo.write("people.yaml", PEOPLE.replace("  name: Tom Freelance\n", "  left: 2026-12-04\n"))

    on_the_day = inspect_repository(repo.root, today=date(2026, 12, 4)).problems
    the_day_before = inspect_repository(repo.root, today=date(2026, 12, 3)).problems

    assert on_the_day == []
    assert [str(problem) for problem in the_day_before] == [
        "people.yaml:3:9: error: tom.left: 2026-12-04 is later than today (2026-12-03, UTC); "
        "offboarding takes effect when this line is merged, so write the day once it has "
        "come (leaving on a future day cannot be scheduled)"
    ]
