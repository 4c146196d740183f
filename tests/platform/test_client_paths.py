"""The paths the client sends: each segment escaped exactly as ``quote`` escapes it, also
where a shortcut leaves a plain segment as it is."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from reconciler.platform.client import _path, _segment

SEGMENTS = st.one_of(
    st.sampled_from(["", "v1", "acme-bakery", "anna@acme.example", "a/../b", "x y", "ä", "~_.-"]),
    st.text(max_size=20),
    st.text(st.sampled_from("aZ09_.-~@/%?# +ä\x00"), max_size=12),
)


@given(SEGMENTS)
def test_a_segment_is_what_quote_makes_of_it(segment: str) -> None:
    assert _segment(segment) == quote(segment, safe="@")


@given(st.lists(SEGMENTS, min_size=1, max_size=4))
def test_a_path_escapes_each_segment(segments: list[str]) -> None:
    assert _path(*segments) == "/" + "/".join(quote(s, safe="@") for s in segments)
