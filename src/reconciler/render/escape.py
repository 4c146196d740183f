"""Text from the platform or from files, shown as data in every output (DESIGN.md 8).

A refusal reason, a site's name or id, an address, a commit subject: any of them may hold
a line break, a terminal escape, Markdown or HTML. Shown raw, such text could start a
line of the CI log with a GitHub workflow command (``::add-mask::...``; the runner reads
one from a line that starts with ``::`` after spaces, and the legacy ``##[command]`` from
anywhere in a line), or open a heading, a fence, a table row or an HTML tag in the pull
request's comment. Every renderer passes such text through one of these, by where it goes:

- ``text``: one line of terminal or log output
- ``lines``: a message of the tool's own that may span lines and quote such text
- ``commandless``: text whose line breaks are data (a CSV cell), no line a command
- ``markdown``: Markdown inline text (a list item, a table cell, emphasis)
- ``code``: a Markdown code span
- ``html``: text in an HTML element (the status page, ``<summary>`` in a comment)
- ``json_text``: a JSON document already made (``json.dumps``)
- ``fence``: a fenced code block its content cannot close (a job summary's log)
- ``command_data``, ``command_property``: the parts of a workflow command the tool writes

Line breaks and other control characters are shown as escapes (``\\n``, ``\\x1b``), so a
text stays on its line and can move no cursor.
"""

from __future__ import annotations

import re

# Line breaks of any kind (those of str.splitlines and of the runner), the other C0 and C1
# controls, DEL, and the bidirectional controls that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LEGACY_COMMAND = "##["
_LEADING_COMMAND = re.compile(r"^(\s*):(?=:)")
# CommonMark's inline marks (code, emphasis, strikethrough, links, table cells, maths).
_MARKDOWN_MARK = re.compile(r"[\\`*_~\[\]|$]")
# What would start a block if the text began a line: heading, quote, list, setext line.
_MARKDOWN_BLOCK_START = re.compile(r"^(\s*)(\d*)([#>+=:.)-])")
# GitHub links @name and @org/team (not an address's @) and #123 to people and issues.
_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")
_REFERENCE = re.compile(r"(?<!&)#(?=\d)")  # not an entity's &#
_ZERO_WIDTH_SPACE = "&#8203;"  # after @ or #, as Dependabot and Renovate do


def _visible(character: re.Match[str]) -> str:
    c = character.group()
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def controls(text: str) -> str:
    """``text`` with every line break and control character shown as an escape."""
    return _CONTROL.sub(_visible, text)


def text(value: str) -> str:
    """``value`` for one line of terminal or log output; never a workflow command."""
    if value.isprintable() and _LEGACY_COMMAND not in value and "::" not in value:
        # Most text, checked at C speed (a plan shows thousands): no control character
        # is printable, and a command needs "::" or "##[".
        return value
    shown = controls(value).replace(_LEGACY_COMMAND, "##\\[")
    return _LEADING_COMMAND.sub(r"\1\\:", shown)


def lines(value: str) -> str:
    """A message that may span lines (an error, a log record with a traceback), each
    line shown as ``text`` shows it: the lines stay, no line is a workflow command."""
    return "\n".join(text(line) for line in value.splitlines())


def commandless(value: str) -> str:
    """``value`` with its lines as they are, but none a workflow command: a line that
    starts with ``::`` and the legacy ``##[`` get the backslash ``text`` gives them."""
    kept = value.splitlines(keepends=True)
    return "".join(_LEADING_COMMAND.sub(r"\1\\:", line) for line in kept).replace(
        _LEGACY_COMMAND, "##\\["
    )


def markdown(value: str) -> str:
    """``value`` as Markdown inline text that shows as written and makes no markup.

    Safe in a paragraph, a list item, a table cell or emphasis, also at the start of a
    line; not inside a code span (``code``) or an HTML element (``html``).
    """
    shown = _escape_html(value, quote=False)  # & < >: no entity, tag or autolink
    shown = _MARKDOWN_MARK.sub(r"\\\g<0>", shown)
    shown = _MARKDOWN_BLOCK_START.sub(r"\1\2\\\3", shown)
    return controls(_unlinked(shown))


def _unlinked(shown: str) -> str:
    """No @-mention or #-reference: a zero-width space after the mark (GitHub would
    notify the people named, or link the issue, from text nobody reviewed)."""
    shown = _REFERENCE.sub("#" + _ZERO_WIDTH_SPACE, shown)  # first: the space is &#8203;
    return _MENTION.sub("@" + _ZERO_WIDTH_SPACE, shown)


def code(value: str) -> str:
    """``value`` as a Markdown code span, whatever backticks it holds (CommonMark: the
    span's fence is one backtick longer than the longest run inside). Not at the start
    of a line, where three backticks would open a fenced block. A code span shows its
    content raw, so a text holding the legacy command mark is plain ``markdown``."""
    body = controls(value)
    if _LEGACY_COMMAND in body:
        return markdown(value)
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    ticks = "`" * (longest + 1)
    edges = body[:1] + body[-1:]
    pad = " " if "`" in edges or (edges == "  " and body.strip()) else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def html(value: str) -> str:
    """``value`` as the text of an HTML element or attribute, on one line (a blank
    line would end an HTML block in Markdown), mentioning nobody."""
    shown = _escape_html(value, quote=True).replace(_LEGACY_COMMAND, "##&#91;")
    shown = _LEADING_COMMAND.sub(r"\1&#58;", _unlinked(shown))
    return _CONTROL.sub(lambda c: f"&#{ord(c.group())};", shown)


def _escape_html(value: str, *, quote: bool) -> str:
    """``html.escape``, imported when first used: the ``html`` package loads its table of
    entities, which a command that shows no Markdown or HTML does not need."""
    from html import escape as escape_html

    return escape_html(value, quote=quote)


def json_text(document: str) -> str:
    """A JSON document that no log reads as a legacy workflow command: ``##[`` can only
    be inside a string there, where ``\\u005b`` is the same ``[``."""
    return document.replace(_LEGACY_COMMAND, "##\\u005b")


def fence(content: str, info: str = "") -> str:
    """``content`` as a fenced Markdown code block that no line of it can close: the
    fence is longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall("`+", content)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"{ticks}{controls(info).replace('`', '')}\n{body}{ticks}\n"


def command_data(value: str) -> str:
    """The message of a workflow command (``::error ...::MESSAGE``), as GitHub's toolkit
    escapes it: ``%``, CR and LF."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: str) -> str:
    """A property value of a workflow command (``file=...``): also ``:`` and ``,``."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")
