"""render.escape: text from the platform or the files, shown as data in each context.

Markdown is checked by parsing it (markdown-it-py, CommonMark with GitHub's tables and
strikethrough), not by looking for characters: what a reader sees is what the parser
makes of it.
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reconciler.render import escape

HOSTILE = [
    "\n::warning file=x::forged\n::add-mask::secret",
    "   ::error::after spaces",
    "```\n# Plan: no changes\n```",
    "~~~\ncode",
    "# heading",
    "| a | b |\n| --- | --- |",
    "<script>alert(1)</script>",
    "<details><summary>x</summary>",
    "name\r=1+1",
    "[click](https://x.example) ![img](https://x.example/a.png)",
    "**bold** _em_ ~~struck~~ `code` $x$",
    "@org/team and #1",
    "##[add-mask]secret ##[stop-commands]token",
    "\x1b[2K\rdone",
    "a\u2028b\u2029c\x85d\x0be\x0cf",
    "\\",
    "1. item",
    "- item",
    "> quote",
    "===",
    "&amp; &#64; &lt;",
]
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_ZWSP = "\u200b"


def _inline(markdown: str) -> list[Any]:
    """The inline tokens of a Markdown paragraph, or fail if it is not one paragraph."""
    tokens = _MD.parse(markdown)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], markdown
    children: list[Any] = tokens[1].children or []
    return children


@given(texts)
def test_markdown_is_one_paragraph_of_plain_text_as_written(value: str) -> None:
    children = _inline(f"x {escape.markdown(value)} y")

    assert {child.type for child in children} <= {"text"}
    shown = "".join(child.content for child in children).replace(_ZWSP, "")
    assert shown == f"x {escape.controls(value)} y".replace(_ZWSP, "")


@given(texts)
def test_markdown_at_the_start_of_a_line_opens_no_block(value: str) -> None:
    rendered = escape.markdown(value)
    if rendered.strip():
        children = _inline(rendered + " y")
        assert {child.type for child in children} <= {"text"}


@given(texts)
def test_code_is_one_code_span_of_the_text(value: str) -> None:
    shown = escape.controls(value)
    children = _inline(f"x {escape.code(value)} y")

    if "##[" in shown or not value:
        return  # shown as markdown: a code span would show the mark raw
    assert [child.type for child in children] == ["text", "code_inline", "text"]
    assert children[1].content == shown


@given(texts)
def test_html_is_text_on_one_line(value: str) -> None:
    shown = escape.html(value)

    assert len(shown.splitlines()) <= 1
    assert "<" not in shown
    assert ">" not in shown
    assert '"' not in shown
    assert "##[" not in shown
    assert not shown.lstrip().startswith("::")


def test_html_shows_the_text_to_a_browser() -> None:
    value = "<b>Bäckerei</b> & \"Söhne\" 'x'\n::warning::y"

    assert html.unescape(escape.html(value)) == value


@given(texts)
def test_text_is_one_line_that_starts_no_workflow_command(value: str) -> None:
    shown = escape.text(value)

    assert len(shown.splitlines()) <= 1
    assert not shown.lstrip().startswith("::")
    assert "##[" not in shown
    assert "\x1b" not in shown
    assert "\r" not in shown


@given(st.one_of(texts, st.text(st.characters(codec="utf-8"), max_size=30)))
def test_text_without_anything_to_escape_is_the_text_itself(value: str) -> None:
    # text() returns printable text without "::" or "##[" as it is, unscanned: what
    # the escapes make of it too.
    escaped = escape.controls(value).replace("##[", "##\\[")
    assert escape.text(value) == escape._LEADING_COMMAND.sub(r"\1\\:", escaped)


def test_text_shows_controls_as_escapes() -> None:
    assert escape.text("a\nb\rc\td\x1be\u202ef") == r"a\nb\rc\td\x1be\u202ef"
    assert escape.text("  ::add-mask::x") == r"  \::add-mask::x"
    assert escape.text("::") == r"\::"
    assert escape.text("a::b") == "a::b"  # only a line's start is read as a command
    assert escape.text("Bäckerei 👩‍🍳") == "Bäckerei 👩‍🍳"  # a joiner is no control


@given(texts)
def test_commandless_keeps_the_lines_and_starts_no_command(value: str) -> None:
    shown = escape.commandless(value)

    assert len(shown.splitlines()) == len(value.splitlines())
    for line in shown.splitlines():
        assert not line.lstrip().startswith("::")
    assert "##[" not in shown


def test_lines_keeps_the_lines_of_a_message_and_defuses_each() -> None:
    message = "cannot read x:\n  ::add-mask::secret\n##[warning]y"

    assert escape.lines(message) == "cannot read x:\n  \\::add-mask::secret\n##\\[warning]y"


@given(st.recursive(st.none() | st.booleans() | texts, lambda c: st.lists(c, max_size=3)))
def test_json_text_is_the_same_document(value: Any) -> None:
    document = escape.json_text(json.dumps({"v": value}, indent=2))

    assert json.loads(document) == {"v": value}
    assert "##[" not in document


@given(texts)
def test_fence_holds_its_content_whatever_it_is(content: str) -> None:
    content = content.replace("\x00", "")  # CommonMark replaces NUL
    tokens = _MD.parse(escape.fence(content, "text"))

    assert [t.type for t in tokens] == ["fence"]
    normalised = content.replace("\r\n", "\n").replace("\r", "\n")
    expected = normalised if not normalised or normalised.endswith("\n") else normalised + "\n"
    assert tokens[0].content == expected


@given(texts)
def test_command_parts_cannot_end_the_command(value: str) -> None:
    data, prop = escape.command_data(value), escape.command_property(value)

    assert "\r" not in data
    assert "\n" not in data
    assert not {":", ",", "\r", "\n"} & set(prop)
    unescaped = data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
    assert unescaped == value


def test_csv_quotes_every_cell_with_a_line_break() -> None:
    """The writer as status.as_csv sets it up (rows end in CRLF)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["a\rb", "c\nd", "e"])

    assert out.getvalue() == '"a\rb","c\nd",e\r\n'
