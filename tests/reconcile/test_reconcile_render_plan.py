"""A plan as text, JSON and Markdown, as a reviewer and a script read it."""

from __future__ import annotations

import json

import pytest
from reconcile_support import (
    CLIENT,
    CLIENT_ACCOUNTS,
    EXPERT,
    FREDA,
    OTHER_CLIENT,
    PAID_UNTIL,
    TOM,
    desired,
    observed,
    plan_of,
)

from reconciler.reconcile.plan import Plan
from reconciler.render.plan import GITHUB_COMMENT_LIMIT, as_json, as_markdown, as_text

NOT_SHOWN = "more site(s) not shown: the comment would exceed GitHub's limit"
FULL_PLAN = "run `reconciler plan` for the full plan"


def _review_plan() -> Plan:
    """A handover with a paid package, a kept site with access changes, a client's site."""
    return plan_of(
        [
            (
                desired(CLIENT, site="acme-bakery", collaborators={EXPERT: "editor"}),
                observed(site="acme-bakery", package="premium", paid_until=PAID_UNTIL),
            ),
            (
                desired(site="pixel-blog", collaborators={TOM: "editor"}, package="premium"),
                observed(site="pixel-blog", collaborators={FREDA: "viewer"}),
            ),
            (
                desired(CLIENT, site="anna-shop", billing_contact=CLIENT_ACCOUNTS),
                observed(CLIENT, site="anna-shop"),
            ),
            (None, observed(site="old-shop")),
        ]
    )


# --- text -----------------------------------------------------------------------------


def test_text_ends_with_the_counts_per_action() -> None:
    text = as_text(_review_plan())

    assert text.splitlines()[-2:] == [
        "Plan: 4 changes (1 collaborator.add, 1 collaborator.remove, 1 package.purchase, "
        "1 transfer.start). Notes: 1 blocked, 1 unmanaged.",
        "1 handover, 1 removal.",
    ]


def test_text_lists_each_site_with_its_changes_and_notes() -> None:
    lines = as_text(_review_plan()).splitlines()

    assert lines[:3] == [
        "acme-bakery",
        f"  > transfer.start       HANDOVER to {CLIENT} (the expert stays as editor)",
        "",
    ]
    assert f"  + collaborator.add     give {TOM} editor access" in lines
    assert f"  - collaborator.remove  remove {FREDA} (was viewer)" in lines
    assert (
        "  $ package.purchase     buy premium (charged to the expert, who owns and keeps the site)"
        in lines
    )
    assert any(line.startswith("  ! blocked: ") and CLIENT_ACCOUNTS in line for line in lines)
    assert any(line.startswith("  ! unmanaged: ") for line in lines)
    assert "\x1b[" not in "\n".join(lines)


def test_text_in_colour_only_when_asked() -> None:
    assert "\x1b[" in as_text(_review_plan(), colour=True)


def test_text_of_an_empty_plan() -> None:
    plan = plan_of([(desired(), observed())])

    assert as_text(plan) == "No changes: the platform matches the site files."


# --- JSON -----------------------------------------------------------------------------


def test_json_has_the_public_shape() -> None:
    plan = _review_plan()

    data = json.loads(as_json(plan))

    assert data["format_version"] == 1
    assert data["fingerprint"] == plan.fingerprint
    assert data["fingerprint"].startswith("sha256:")
    assert data["changes"][0] == {
        "site": "acme-bakery",
        "action": "transfer.start",
        "details": {
            "to": CLIENT,
            "stay_as_collaborator": True,
            "billing_contact_before": EXPERT,
            "package": "premium",
            "package_paid_until": "2025-04-30",
        },
    }
    assert [set(change) for change in data["changes"]] == [{"site", "action", "details"}] * 4
    assert [(n["site"], n["kind"]) for n in data["notes"]] == [
        ("anna-shop", "blocked"),
        ("old-shop", "unmanaged"),
    ]
    assert all(set(note) == {"site", "kind", "message"} for note in data["notes"])


# --- Markdown -------------------------------------------------------------------------


def test_markdown_puts_handovers_in_their_own_section_with_the_billing_consequence() -> None:
    markdown = as_markdown(_review_plan())

    section = markdown.split("#### Handovers (1)\n\n", 1)[1].split("\n\n", 1)[0]
    assert section == (
        f"- **acme-bakery** → `{CLIENT}`: from acceptance on, {CLIENT} owns the site, pays "
        "with their own card, is invoiced in their own name and is the billing contact "
        f"(now {EXPERT}); invoices issued before stay with the expert. The paid premium "
        "package moves with the site until 2025-04-30, is not refunded, and renews on "
        f"{CLIENT}'s card. The expert stays as editor."
    )


def test_markdown_handover_of_a_free_site_has_no_package_to_move() -> None:
    plan = plan_of([(desired(OTHER_CLIENT, collaborators={}), observed())])

    markdown = as_markdown(plan)

    assert f"{OTHER_CLIENT} owns the site, pays with their own card" in markdown
    assert "package moves" not in markdown
    assert "The expert loses all access." in markdown


def test_markdown_summary_blocked_and_details() -> None:
    markdown = as_markdown(_review_plan(), title="plan for #42")

    assert markdown.startswith("### plan for #42\n\nPlan: 4 changes (")
    assert "| `transfer.start` | 1 |" in markdown
    assert "| note: blocked | 1 |" in markdown
    assert "#### Waiting on the owner (1)\n\n- **anna-shop**: " in markdown
    assert "<details><summary><b>pixel-blog</b></summary>" in markdown
    assert f"- `collaborator.add` give {TOM} editor access" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") == 4
    assert NOT_SHOWN not in markdown
    assert len(markdown) <= GITHUB_COMMENT_LIMIT


def _big_plan(sites: int, *, handover: bool) -> Plan:
    people = {f"person{n}@freelance.example": "editor" for n in range(6)}
    owner = CLIENT if handover else EXPERT
    return plan_of(
        (
            desired(owner, site=f"site-{n:05d}", collaborators=people, package="premium"),
            observed(site=f"site-{n:05d}", collaborators={TOM: "viewer"}, package="premium"),
        )
        for n in range(sites)
    )


@pytest.mark.parametrize("handover", [False, True], ids=["access changes", "handovers"])
def test_markdown_of_thousands_of_sites_fits_a_github_comment(handover: bool) -> None:
    plan = _big_plan(3000, handover=handover)

    markdown = as_markdown(plan)

    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    assert FULL_PLAN in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    assert markdown.rstrip().endswith("3000 sites planned</sub>")
    if not handover:
        assert NOT_SHOWN in markdown
        assert markdown.count("<details>") > 100


@pytest.mark.parametrize("limit", [1_500, 4_000, 20_000])
def test_markdown_respects_any_limit(limit: int) -> None:
    for handover in (False, True):
        markdown = as_markdown(_big_plan(200, handover=handover), limit=limit)

        assert len(markdown) <= limit
        assert FULL_PLAN in markdown


def test_markdown_shows_platform_text_as_written_never_as_markup() -> None:
    """An unmanaged site's id comes from the platform, not from a reviewed file."""
    evil = "x</details></summary>[click](http://x.example) @org/team"
    plan = plan_of([(None, observed(site=evil))])

    markdown = as_markdown(plan)

    assert "</summary>[click]" not in markdown
    assert "@org/team" not in markdown
    # A zero-width space after @, as Dependabot and Renovate write: GitHub decodes an
    # entity such as &#64; before it looks for mentions.
    assert "x&lt;/details&gt;&lt;/summary&gt;\\[click\\](http://x.example) @&#8203;org/team" in (
        markdown
    )
    assert markdown.count("<details>") == markdown.count("</details>")


def test_markdown_of_hostile_text_parses_to_the_tools_own_structure_only() -> None:
    """Parsed as GitHub would (CommonMark, tables, strikethrough): the headings, the one
    table and the HTML are the tool's; an unmanaged site's id from the platform and an
    address full of Markdown marks make none of their own."""
    from markdown_it import MarkdownIt

    evil = "x\n::warning::forged\n```\n# Plan: no changes\n| a | b |\n<script>1</script>\r=1"
    marked = "```|~~x~~|_y_@evil.example"
    plan = plan_of(
        [
            (
                desired(
                    marked, site="acme-bakery", collaborators={EXPERT: "editor", TOM: "viewer"}
                ),
                observed(site="acme-bakery"),
            ),
            (None, observed(site=evil)),
        ]
    )

    markdown = as_markdown(plan)
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)

    kinds = {token.type for token in tokens}
    assert not kinds & {"fence", "code_block", "blockquote_open", "hr"}
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [
        "reconciler plan",
        "Handovers (1)",
        "Pending changes (2), with every note, per site",
    ]
    assert sum(1 for token in tokens if token.type == "table_open") == 1
    blocks = [token.content for token in tokens if token.type == "html_block"]
    assert all(block.startswith(("<details><summary><b>", "</details>")) for block in blocks)
    assert len(blocks) == 2 * 2  # two sites' details
    inline = [child for token in tokens for child in token.children or []]
    assert not {child.type for child in inline} & {"link_open", "image", "s_open"}
    tags = {child.content for child in inline if child.type == "html_inline"}
    assert tags == {"<sub>", "</sub>"}  # the fingerprint's
    for line in markdown.splitlines():
        assert not line.lstrip().startswith("::")
    assert "\r" not in markdown
