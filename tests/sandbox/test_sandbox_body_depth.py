"""The nesting depth of a request body is counted before it is parsed (64 at most,
DESIGN.md section 4). The count strips the strings, then sums the brackets left in C
loops (issue 20: a batch of dry runs is 80 KB of JSON); it must count as the plain scan
of the text, token by token, does: brackets inside strings do not count, an unterminated
string runs to the end."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.sandbox.api import MAX_JSON_DEPTH, _deeper_than

_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def scanned_deeper_than(text: str, limit: int) -> bool:
    """The count as it was: one token (a string or a bracket) at a time."""
    depth = 0
    for token in _TOKEN.finditer(text):
        kind = token.group()[0]
        if kind in "[{":
            depth += 1
            if depth > limit:
                return True
        elif kind in "]}":
            depth -= 1
    return False


@settings(max_examples=500)
@given(st.text(alphabet='[]{}"\\ a1,:\n', max_size=60), st.integers(0, 4))
def test_the_depth_is_counted_as_a_scan_of_the_text_counts_it(text: str, limit: int) -> None:
    assert _deeper_than(text, limit) == scanned_deeper_than(text, limit)


def test_brackets_in_strings_and_after_an_unterminated_string_do_not_count() -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert _deeper_than(deep, MAX_JSON_DEPTH)
    assert not _deeper_than('["' + deep + '"]', MAX_JSON_DEPTH)
    assert not _deeper_than('["\\"' + deep, MAX_JSON_DEPTH)
    assert not _deeper_than("]]]" + "[" * MAX_JSON_DEPTH, MAX_JSON_DEPTH)
