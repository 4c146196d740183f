"""E-mail addresses: ASCII (the domain IDNA-normalised), nothing invisible, nothing that
changes a URL path, and no look-alike of another address of the same file or the expert.

One validator (``model.normalise_email``) serves the site files, people.yaml, the wire
schema and the sandbox's API, so that what validate accepts the platform accepts too.
"""

from __future__ import annotations

import pytest
from desired_support import Repo

from reconciler.model import normalise_email


@pytest.mark.parametrize(
    ("written", "why"),
    [
        (
            "mar\u200bco@acme-bakery.example",
            "it holds U+200B ZERO WIDTH SPACE, an invisible or control character",
        ),
        (
            "marco\u00ad@acme-bakery.example",
            "it holds U+00AD SOFT HYPHEN, an invisible or control character",
        ),
        ("\x00@a.example", "it holds U+0000, an invisible or control character"),
        (
            "a\u202eb@a.example",
            "it holds U+202E RIGHT-TO-LEFT OVERRIDE, an invisible or control character",
        ),
        (
            "a/../b@example.com",
            "'/' may not be in an address (it would change the platform's URL path)",
        ),
        (
            "a\\b@example.com",
            "'\\\\' may not be in an address (it would change the platform's URL path)",
        ),
        (
            "a%2fb@example.com",
            "'%' may not be in an address (it would change the platform's URL path)",
        ),
        (
            "a..b@example.com",
            "the part before @ may not have two dots in a row, or start or end with one",
        ),
        (
            ".a@example.com",
            "the part before @ may not have two dots in a row, or start or end with one",
        ),
        (
            "studi\u043e@pixel.example",
            "the part before @ must be ASCII (it has 'о' U+043E CYRILLIC SMALL LETTER O)",
        ),
        ("a@exa_mple.com", "'exa_mple' is not a valid domain label"),
        ("a@-x.example", "'-x' is not a valid domain label"),
    ],
)
def test_a_bad_address_is_refused_with_the_reason(written: str, why: str) -> None:
    with pytest.raises(ValueError, match="is not a valid e-mail address") as caught:
        normalise_email(written)

    assert str(caught.value) == f"{written!r} is not a valid e-mail address: {why}"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("Anna@Acme-Bakery.example", "anna@acme-bakery.example"),
        ("o'brien+sites@x.example", "o'brien+sites@x.example"),
        ("anna@bäckerei.example", "anna@xn--bckerei-5wa.example"),
        ("anna@BÄCKEREI.example", "anna@xn--bckerei-5wa.example"),
        ("anna@xn--bckerei-5wa.example", "anna@xn--bckerei-5wa.example"),
    ],
)
def test_a_good_address_is_normalised_to_ascii(written: str, normal: str) -> None:
    assert normalise_email(written) == normal


def test_a_zero_width_space_is_refused_in_a_site_file(repo: Repo) -> None:
    repo.site(
        "a", 'id: a\nowner: expert\ncollaborators:\n  "mar\\u200bco@acme-bakery.example": viewer\n'
    )

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:4:3: error: 'mar\\u200bco@acme-bakery.example' is not a valid e-mail "
        "address: it holds U+200B ZERO WIDTH SPACE, an invisible or control character"
    )


def test_a_path_in_an_address_is_refused_in_a_site_file(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  a/../b@example.com: viewer\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:4:3: error: 'a/../b@example.com' is not a valid e-mail address: '/' may "
        "not be in an address (it would change the platform's URL path)"
    )


def test_a_look_alike_of_the_experts_own_address_is_an_error_naming_both(repo: Repo) -> None:
    # "pixеl" with a Cyrillic е: a different, valid-looking domain the expert does not own.
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  studio@pix\u0435l.example: admin\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:4:3: error: 'studio@pix\u0435l.example' looks like the expert's own "
        "address studio@pixel.example but is another one (it has 'е' U+0435 CYRILLIC SMALL "
        "LETTER IE); write studio@pixel.example if that is meant"
    )


def test_a_look_alike_in_the_local_part_names_the_expert_too(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  studi\u043e@pixel.example: admin\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:4:3: error: 'studi\u043e@pixel.example' looks like the expert's own "
        "address studio@pixel.example but is another one (it has 'о' U+043E CYRILLIC SMALL "
        "LETTER O); write studio@pixel.example if that is meant"
    )


def test_a_look_alike_of_another_address_in_the_file_is_an_error(repo: Repo) -> None:
    repo.site(
        "a",
        "id: a\nowner: anna@acme-bakery.example\ncollaborators:\n"
        "  studio@pixel.example: editor\n  anna@\u0430cme-bakery.example: admin\n",
    )

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "sites/a.yaml:5:3: error: 'anna@\u0430cme-bakery.example' looks like "
        "anna@acme-bakery.example (the owner) but is another one (it has 'а' U+0430 CYRILLIC "
        "SMALL LETTER A); write anna@acme-bakery.example if that is meant"
    )


def test_an_idna_address_that_resembles_nobody_is_fine(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  anna@bäckerei.example: viewer\n")

    assert repo.validate().lines == ["1 site file valid"]


def test_people_yaml_refuses_a_look_alike_of_the_expert(repo: Repo) -> None:
    repo.write("people.yaml", "boss:\n  email: studio@pix\u0435l.example\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "people.yaml:2:10: error: 'studio@pix\u0435l.example' looks like the expert's own "
        "address studio@pixel.example but is another one (it has 'е' U+0435 CYRILLIC SMALL "
        "LETTER IE); write studio@pixel.example if that is meant"
    )


def test_people_yaml_refuses_a_look_alike_of_another_person(repo: Repo) -> None:
    repo.write(
        "people.yaml",
        "anna:\n  email: anna@acme-bakery.example\nanne:\n  email: anna@\u0430cme-bakery.example\n",
    )

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[0] == (
        "people.yaml:4:10: error: 'anna@\u0430cme-bakery.example' looks like the address of "
        "'anna' anna@acme-bakery.example but is another one (it has 'а' U+0430 CYRILLIC SMALL "
        "LETTER A); write anna@acme-bakery.example if that is meant"
    )


def test_an_address_normalised_again_gives_the_same_answer() -> None:
    """Normal forms are remembered (a listing names the expert on most sites); a
    refusal is not: it is said again each time."""
    assert normalise_email(" Anna@Acme.EXAMPLE ") == normalise_email(" Anna@Acme.EXAMPLE ")
    assert normalise_email(" Anna@Acme.EXAMPLE ") == "anna@acme.example"
    for _ in range(2):
        with pytest.raises(ValueError, match="not a valid e-mail address"):
            normalise_email("anna@@acme.example")
