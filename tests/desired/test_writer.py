"""The round-trip writer: canonical layout, in-place updates, every comment kept."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from types import FrameType

import pytest

from reconciler.desired.loader import MAX_DEPTH, parse_yaml
from reconciler.desired.writer import (
    MODELINE,
    SiteContent,
    UnreadableSiteFile,
    canonical,
    new_site_text,
    updated_site_text,
)
from support.repo import EXPERT
from support.sites import COMMENTED_SITE, COMMENTS, PEOPLE, resolve_site


def resolve(written: str) -> str | None:
    """What the adopter resolves with: ``expert``, handles, e-mails in lower case."""
    if written == "expert":
        return EXPERT
    if "@" in written:
        return written.strip().lower()
    return PEOPLE.email_of(written) or written


def content(**changes: object) -> SiteContent:
    """The platform's state of acme-bakery as COMMENTED_SITE declares it."""
    values: dict[str, object] = {
        "id": "acme-bakery",
        "name": "ACME Bakery",
        "owner": "anna",
        "billing_contact": None,
        "collaborators": {"studio@pixel.example": "editor", "tom": "viewer"},
        "package": "premium",
    }
    values |= changes
    return SiteContent(**values)  # type: ignore[arg-type]


# A file that is out of canonical order, with upper-case e-mails and a comment on
# every line and between lines, including inside collaborators and at the end.
UNTIDY = """\
# top-1
# top-2

package: free  # c-package
owner: Anna@Acme-Bakery.example   # c-owner
# between-owner-and-collaborators
collaborators:   # c-collaborators
  # inside-first
  zed@freelance.example: editor   # c-zed
  # inside-between
  Tom@Freelance.example: viewer   # c-tom
  # inside-last
name: ACME Bakery  # c-name
billing_contact: Accounts@Acme-Bakery.example  # c-billing
id: acme-bakery   # c-id
# trailing-1

# trailing-2
"""
UNTIDY_COMMENTS = [line.split("#", 1)[1].strip() for line in UNTIDY.splitlines() if "#" in line]


def keys_in_order(text: str) -> list[str]:
    return [
        line.split(":", 1)[0]
        for line in text.splitlines()
        if line and not line.startswith((" ", "#"))
    ]


def test_canonical_orders_keys_lowers_emails_and_sorts_collaborators() -> None:
    out = canonical(UNTIDY, "sites/acme-bakery.yaml")

    assert keys_in_order(out) == [
        "id",
        "name",
        "owner",
        "billing_contact",
        "collaborators",
        "package",
    ]
    site = resolve_site(out)
    assert site.owner == "anna@acme-bakery.example"
    assert site.billing_contact == "accounts@acme-bakery.example"
    assert list(site.collaborators or {}) == ["tom@freelance.example", "zed@freelance.example"]
    assert "owner: anna@acme-bakery.example" in out
    assert "  tom@freelance.example: viewer" in out
    assert "Anna@" not in out
    assert "Tom@" not in out


def test_canonical_keeps_every_comment_and_is_stable() -> None:
    once = canonical(UNTIDY, "sites/acme-bakery.yaml")
    twice = canonical(once, "sites/acme-bakery.yaml")

    missing = [comment for comment in UNTIDY_COMMENTS if comment not in once]
    assert missing == []
    assert twice == once
    assert once.startswith("# top-1\n# top-2\n")
    resolve_site(once)


def test_canonical_keeps_the_comments_of_a_hand_written_file() -> None:
    once = canonical(COMMENTED_SITE, "sites/acme-bakery.yaml")

    assert [c for c in COMMENTS if c not in once] == []
    assert canonical(once, "sites/acme-bakery.yaml") == once
    assert once.startswith(MODELINE + "\n")
    assert "owner: anna " in once  # a handle stays a handle
    resolve_site(once)


def test_a_tidy_file_is_left_byte_for_byte() -> None:
    tidy = canonical(UNTIDY, "sites/acme-bakery.yaml")
    assert canonical(tidy, "sites/acme-bakery.yaml") == tidy
    plain = "id: old-shop\nname: Old Shop\nowner: expert\ncollaborators: {}\n"
    assert canonical(plain, "sites/old-shop.yaml") == plain


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("id: x  # only inline\nowner: expert\n", id="inline"),
        pytest.param("owner: expert\n# before-id\nid: x\n", id="own-line-before-moved-key"),
        pytest.param("id: x\nowner: expert\ncollaborators:\n  b@x.example: viewer\n"
                     "  a@x.example: editor\n# end-of-file\n", id="trailing-after-nested"),
        pytest.param("id: x\nowner: expert\ncollaborators: {B@x.example: viewer, "
                     "a@x.example: editor}  # flow\n", id="flow-collaborators"),
        pytest.param("# header\n\n\nid: x\n\n\nowner: expert   # spaced\n\n", id="blank-lines"),
        pytest.param("id: x\nowner: 'expert'  # quoted\nname: \"Café #1: Bar\"\n", id="quotes"),
    ],
)  # fmt: skip
def test_comments_survive_wherever_they_are(text: str) -> None:
    comments = [line.split("#", 1)[1].strip() for line in text.splitlines() if "# " in line]

    once = canonical(text, "sites/x.yaml")

    assert [c for c in comments if c not in once] == []
    assert canonical(once, "sites/x.yaml") == once
    resolve_site(once, "sites/x.yaml")


def test_a_name_that_looks_like_yaml_keeps_its_meaning() -> None:
    text = 'id: x\nname: "Café #1: Bar"\nowner: expert\n'
    assert resolve_site(canonical(text, "sites/x.yaml"), "sites/x.yaml").name == "Café #1: Bar"


def test_emails_that_collide_in_lower_case_are_refused_not_passed_over() -> None:
    """fmt --check must not pass a file it cannot put in the canonical layout."""
    text = (
        "id: x\nowner: expert\ncollaborators:\n  Bob@x.example: editor\n  bob@x.example: viewer\n"
    )
    with pytest.raises(UnreadableSiteFile) as refused:
        canonical(text, "sites/x.yaml")

    assert refused.value.message == (
        "lists Bob@x.example and bob@x.example, the same person; keep one "
        "(see `reconciler validate`)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- a\n- b\n", "does not hold a mapping", id="list"),
        pytest.param("just text\n", "does not hold a mapping", id="scalar"),
        pytest.param("", "does not hold a mapping", id="empty"),
        pytest.param("id: [unclosed\n", "is not valid YAML", id="syntax"),
        pytest.param("id: a\nid: b\n", "is not valid YAML", id="duplicate-key"),
        pytest.param("id: a\n---\nid: b\n", "is not valid YAML", id="two-documents"),
        pytest.param("id: a\x07\n", "is not valid YAML", id="control-character"),
        pytest.param(
            "id: " + "[" * 3000 + "]" * 3000 + "\n", "nests deeper than 32 levels", id="deep"
        ),
        pytest.param(
            "id: [" + "1," * 100_000 + "1]\n", "holds more than 100000 values", id="too-many"
        ),
    ],
)
def test_unreadable_text_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(UnreadableSiteFile, match=message) as caught:
        canonical(text, "sites/x.yaml")
    assert caught.value.message.startswith("sites/x.yaml ")
    with pytest.raises(UnreadableSiteFile, match=message):
        updated_site_text(text, "sites/x.yaml", content(), resolve)


def test_new_site_text_is_canonical_valid_and_carries_the_schema_modeline() -> None:
    text = new_site_text(
        SiteContent(
            id="acme-bakery",
            name="Café #1: Bar & Grill",
            owner="expert",
            billing_contact="accounts@pixel.example",
            collaborators={"tom": "editor", "anna": "viewer"},
            package="premium",
        )
    )

    assert text.startswith(MODELINE + "\n")
    assert canonical(text, "sites/acme-bakery.yaml") == text
    site = resolve_site(text)
    assert site.name == "Café #1: Bar & Grill"
    assert site.owner == EXPERT
    assert site.billing_contact == "accounts@pixel.example"


def test_update_with_the_same_state_changes_nothing() -> None:
    out = updated_site_text(COMMENTED_SITE, "sites/acme-bakery.yaml", content(), resolve)
    assert out == COMMENTED_SITE


def test_update_with_e_mails_for_handles_keeps_the_handles() -> None:
    same = content(
        owner="anna@acme-bakery.example",
        collaborators={"studio@pixel.example": "editor", "tom@freelance.example": "viewer"},
    )
    out = updated_site_text(COMMENTED_SITE, "sites/acme-bakery.yaml", same, resolve)
    assert out == COMMENTED_SITE


def test_update_changes_only_what_differs_and_keeps_every_comment() -> None:
    changed = content(
        name="ACME Bakery & Café",
        collaborators={"studio@pixel.example": "admin", "tom": "viewer", "zoe@x.example": "viewer"},
        package="free",
    )

    out = updated_site_text(COMMENTED_SITE, "sites/acme-bakery.yaml", changed, resolve)

    assert [c for c in COMMENTS if c not in out] == []
    site = resolve_site(out)
    assert site.name == "ACME Bakery & Café"
    assert dict(site.collaborators or {}) == {
        "studio@pixel.example": "admin",
        "tom@freelance.example": "viewer",
        "zoe@x.example": "viewer",
    }
    assert site.package is not None
    assert site.package.value == "free"
    assert "owner: anna " in out
    assert "  tom: viewer " in out
    assert updated_site_text(out, "sites/acme-bakery.yaml", changed, resolve) == out
    assert canonical(out, "sites/acme-bakery.yaml") == out


def test_update_keeps_comments_of_lines_around_a_removed_collaborator() -> None:
    text = dedent(
        """\
        id: acme-bakery
        owner: anna
        collaborators:
          # above-studio
          studio@pixel.example: editor
          # above-tom
          tom: viewer   # inline-tom
          # after-tom
        package: premium  # inline-package
        # trailing
        """
    )
    out = updated_site_text(
        text, "sites/acme-bakery.yaml", content(collaborators={"tom": "viewer"}), resolve
    )

    assert "studio@pixel.example" not in out
    for comment in ("above-tom", "inline-tom", "after-tom", "inline-package", "trailing"):
        assert comment in out
    resolve_site(out)


def test_update_writes_a_billing_contact_only_when_it_is_not_the_owner() -> None:
    text = "id: acme-bakery\nowner: anna\nbilling_contact: anna  # same person\n"
    billed_to_owner = content(collaborators={})
    out = updated_site_text(text, "sites/acme-bakery.yaml", billed_to_owner, resolve)
    assert "billing_contact: anna" in out  # same as the owner: left as written

    other = content(billing_contact="accounts@acme-bakery.example", collaborators={})
    out = updated_site_text(text, "sites/acme-bakery.yaml", other, resolve)
    assert resolve_site(out).billing_contact == "accounts@acme-bakery.example"

    moved = "id: acme-bakery\nowner: anna\nbilling_contact: billing@acme-bakery.example\n"
    out = updated_site_text(moved, "sites/acme-bakery.yaml", billed_to_owner, resolve)
    assert "billing_contact" not in out
    assert resolve_site(out).billing_contact is None


def test_a_comment_line_moves_with_the_key_below_it() -> None:
    """fmt reorders keys and sorts collaborators: a comment describing a key stays on
    the line above that key, an inline comment stays on its line."""
    text = (
        "# header\n"
        "owner: expert   # owner inline\n"
        "# about the id\n"
        "id: x\n"
        "collaborators:\n"
        "  # about zed\n"
        "  zed@x.example: viewer\n"
        "  # about tom\n"
        "  tom@x.example: editor   # tom inline\n"
        "# about the package\n"
        "package: free\n"
        "# the end\n"
    )

    assert canonical(text, "sites/x.yaml") == (
        "# header\n"
        "# about the id\n"
        "id: x\n"
        "owner: expert   # owner inline\n"
        "collaborators:\n"
        "  # about tom\n"
        "  tom@x.example: editor   # tom inline\n"
        "  # about zed\n"
        "  zed@x.example: viewer\n"
        "# about the package\n"
        "package: free\n"
        "# the end\n"
    )


def test_the_writer_refuses_what_nests_deeper_than_the_loader_allows() -> None:
    """One limit for every reader: a file validate refuses is not rewritten either."""
    too_deep = "id: " + "[" * (MAX_DEPTH + 8) + "]" * (MAX_DEPTH + 8) + "\n"
    assert "nests deeper than" in parse_yaml(too_deep, "sites/x.yaml").problems[0].message

    with pytest.raises(UnreadableSiteFile, match="nests deeper than 32 levels"):
        canonical(too_deep, "sites/x.yaml")


def _composer_calls(action: Callable[[], object]) -> int:
    """How many calls into ruamel's round-trip composer ``action`` makes (it raises or
    not: only the count matters)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call" and Path(frame.f_code.co_filename).parts[-3:] == COMPOSER:
            calls += 1

    sys.setprofile(profile)
    try:
        action()
    except UnreadableSiteFile:
        pass
    finally:
        sys.setprofile(None)
    return calls


COMPOSER = ("ruamel", "yaml", "composer.py")


def test_a_file_nested_3000_levels_deep_is_refused_as_fast_as_the_loader_does() -> None:
    """Refused before the round-trip composer runs (it recurses once a level and alone
    takes seconds), by the loader's own check on the parser's events."""
    very_deep = "id: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(UnreadableSiteFile, match="nests deeper than 32 levels"):
        canonical(very_deep, "sites/x.yaml")

    assert _composer_calls(lambda: canonical(very_deep, "sites/x.yaml")) == 0
    assert _composer_calls(lambda: canonical("id: x\n", "sites/x.yaml")) > 0  # it is watched
