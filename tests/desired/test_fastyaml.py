"""The fast path for site files reads every text it accepts exactly as ruamel does.

``fastyaml`` reads plain ``key: value`` files line by line and gives up on anything else;
a file it read differently from the ruamel path (another value, type or position) would
be a file whose owner is decided by text the user did not mean. So: generated texts of
plausible and tricky lines, every YAML file of the repository's tests and examples, and
the benchmark's generated site files go through both paths, and wherever the fast path
answers, its data (with types: ``True`` is not ``1``, ``1`` is not ``1.0``) and both
position maps equal ruamel's, and ruamel finds no problem.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.desired import fastyaml, loader
from reconciler.desired.loader import MAX_NODES, Parsed, parse_yaml

FILE = "sites/a.yaml"
REPOSITORY = Path(__file__).resolve().parents[2]


def _ruamel_path(text: str) -> Parsed:
    """What ``parse_yaml`` answers without its fast path."""
    refused = loader.guard(text, FILE) or loader._reused_anchor(text, FILE)
    if refused is not None:
        return Parsed(None, (refused,))
    return loader._composed(text, FILE, MAX_NODES, allow_empty=False)


def _fast_path(text: str) -> Parsed | None:
    return loader._fast_document(text, FILE, MAX_NODES)


def _typed(data: Any) -> Any:
    """``data`` with the type of every value beside it (``True == 1 == 1.0`` in Python)."""
    if isinstance(data, dict):
        return ("dict", [(_typed(key), _typed(value)) for key, value in data.items()])
    if isinstance(data, list):
        return ("list", [_typed(item) for item in data])
    return (type(data).__name__, repr(data))


def _marks(positions: Any) -> list[tuple[Any, int, int]]:
    return [(path, mark.line, mark.column) for path, mark in positions.marks.items()]


def _assert_same_as_ruamel(text: str) -> bool:
    """True when the fast path read ``text`` (and read it as ruamel does)."""
    fast = _fast_path(text)
    if fast is None:
        return False
    slow = _ruamel_path(text)
    assert slow.problems == (), text
    assert fast.problems == (), text
    assert slow.document is not None, text
    assert fast.document is not None, text
    assert _typed(fast.document.data) == _typed(slow.document.data), text
    assert _marks(fast.document.key_locations) == _marks(slow.document.key_locations), text
    assert _marks(fast.document.value_locations) == _marks(slow.document.value_locations), text
    assert fast.document.file == slow.document.file == FILE
    return True


INDENTS = ["", "", "", "  ", "  ", "    ", " ", "   ", "\t", " \t"]
KEYS = [
    "id", "name", "owner", "collaborators", "package", "a", "b", "tom", "emma38", "x_y",
    "studio@pixel.example", "a+b@c.example", "a.b", "a-b", "A", "1", "0x1F", "true",
    "null", "yes", "~", "-a", "- a", "a:b", "a b", "<<", "=", "'q'", '"q"', "? a", "&a b",
    "*a", "!!str k", "[a]", "{a}", "é", "a\u00a0b", "k" * 130, "a#b", "a #b", "%x", "@x",
]  # fmt: skip
SEPARATORS = [": ", ": ", ": ", ":", ":  ", ":\t", " : ", ":x", "::", ": : "]
VALUES = [
    "b", "acme-bakery", "ACME Bakery 281", "anna@acme.example", "x+1@y.example", "editor",
    "premium", "2026-01-05", "2026-01-05T10:00:00Z", "2026-1-5", "yes", "no", "on", "off",
    "y", "n", "true", "True", "TRUE", "tRue", "false", "null", "Null", "NULL", "nULL", "~",
    "~x", "0x1F", "0X1F", "0o17", "017", "0b101", "1_000", "1e3", "1E3", "1.5", "1.",
    ".5", "-1", "+1", "-.5", "+.5", "1__0", "1_", ".inf", "-.inf", "+.INF", ".nan", ".NaN",
    "0", "-0", "00", "12:30", "1:2", "a:b", "a: b", "a:", "a :b", "a #b", "a#b", "a # b",
    "{}", "[]", "{ }", "[ ]", "{}x", "[a]", "{a: b}", "a [b]", "a {b}", "a, b", "a,b",
    "'q'", '"q"', "'it''s'", "O'Brien", 'say "hi"', "&a x", "*a", "!!str 1", "!x y", "|",
    ">", "|-", "- a", "-a", "-", "--", "---", "-x", "+", "+x", "?", "? a", "?a", ":a",
    "%x", "@x", "`x", "=", "<<", "...", ".", "..", "A & B", "a & b", "(x)", "/path",
    "a\\b", "a  b", "a\tb", "é", "\ufeff", "a\u0085b", "a\u2028b", "a\x00b", "a\x7fb",
    "a\u00a0b", "a\u00a0", "\u00a0a", "a\u200bb", "\ue000", "a\u00adb", "a\u2029b", "\u3000",
    "a\x85b", "a\u3000b", "x\ufeff", "\U0010ffff", "a\ufffeb",
]  # fmt: skip
# Values in the fast path's subset, the tricky ones among them (resolved to other types).
GOOD_VALUES = [
    "b", "acme-bakery", "ACME Bakery 281", "anna@acme.example", "x+1@y.example", "editor",
    "2026-01-05", "yes", "on", "y", "true", "False", "null", "NULL", "~", "~x", "0x1F",
    "0o17", "017", "1_000", "1e3", "1.", ".5", "-1", "+1", "-.5", ".inf", ".nan", "-0",
    "12:30", "a:b", "a#b", "a :b", "O'Brien", 'say "hi"', "A & B", "a, b", "-x", "+x",
    "(x)", "/path", "a\\b", "a  b", "{}", "[]", "...", ".", "~x", "1__0", "1_", "a - b",
    "a ? b", "a | b", "a > b", "a ! b", "a * b", "a & b", "a @ b", "a ` b", "a % b", "a 'b'",
    'a "b"', "a -b", "a --- b", "a ... b", "a - - b", "a #", "a#", "a ##", "Café Verde",
    "Müller", "日本", "🙂", "é", "Ünïcödé – dash", "e\u0301", "ß@x.example", "a é",
]  # fmt: skip
COMMENTS = [
    "", "", "", " # c", "   # inline", "#c", " #", " #: x", "\t# c", "  ", " # café 🙂",
    " # \u2028", " # \x85", "\u00a0# c",
]  # fmt: skip
SPECIAL_LINES = [
    "", "", "# comment", "  # indented comment", "#", "   ", "---", "--- a", "...",
    "%YAML 1.2", "- a", "  - b", "a", "  continuation", "? a", ": b", "\ufeff# bom",
    "\ufeffid: x", "\t", "# yaml-language-server: $schema=../schema/site.schema.json",
    "&a", "!x", "|", "  more: 1", "[a, b]", "{a: b}", "\x0c",
]  # fmt: skip
ENDINGS = ["\n", "\n", "\n", "\n", "\r\n", "", "\r", " \n"]

entry_lines = st.tuples(
    st.sampled_from(INDENTS),
    st.sampled_from(KEYS),
    st.sampled_from(SEPARATORS),
    st.one_of(st.sampled_from(GOOD_VALUES), st.sampled_from(VALUES)),
    st.sampled_from(COMMENTS),
).map("".join)
# A key with nothing after it (a nested mapping should follow, deeper).
open_lines = st.tuples(
    st.sampled_from(INDENTS), st.sampled_from(KEYS), st.sampled_from([":", ":  # c", ": "])
).map("".join)
lines = st.one_of(entry_lines, entry_lines, open_lines, st.sampled_from(SPECIAL_LINES))
texts = st.lists(st.tuples(lines, st.sampled_from(ENDINGS)), max_size=12).map(
    lambda pairs: "".join(line + ending for line, ending in pairs)
)

# The shape of nearly every site file, with the values and comments varied: most of
# these are in the fast path's subset, so its answers are checked, not only its refusals.
values = st.one_of(
    st.sampled_from(GOOD_VALUES), st.sampled_from(GOOD_VALUES), st.sampled_from(VALUES)
)
keys = st.one_of(
    st.sampled_from(["tom", "a@b.example", "x_y", "a.b", "1", "yes"]), st.sampled_from(KEYS)
)
site_entries = st.tuples(
    st.sampled_from(["id", "name", "owner", "billing_contact", "package", "x"]),
    st.tuples(values, st.sampled_from(COMMENTS)).map(lambda parts: ": " + "".join(parts)),
)
nested = st.tuples(
    st.sampled_from(["collaborators", "policy"]),
    st.tuples(
        st.sampled_from(["", "  # c", "   ", "#c"]),
        st.sampled_from(["  ", "    ", " "]),
        st.lists(st.tuples(keys, values), min_size=1, max_size=4, unique_by=lambda kv: kv[0]),
    ).map(
        lambda parts: (
            f":{parts[0]}\n" + "".join(f"{parts[1]}{key}: {value}\n" for key, value in parts[2])
        )
    ),
)
comment_lines = st.sampled_from(["# c", "", "  # c"]).map(lambda line: ("", line))


def _joined(entries: list[tuple[str, str]]) -> str:
    """The lines of ``entries``, each key once (a duplicate is ruamel's to report)."""
    seen: set[str] = set()
    lines = []
    for key, rest in entries:
        if key and key in seen:
            continue
        seen.add(key)
        lines.append(key + rest)
    return "\n".join(lines) + "\n"


site_texts = st.lists(
    st.one_of(site_entries, site_entries, nested, comment_lines), min_size=1, max_size=9
).map(_joined)

QUICK = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,  # the same inputs every run: CI fails on a change, not on luck
    suppress_health_check=[HealthCheck.too_slow],
)


@QUICK
@given(text=texts)
@example(text="id: a\ncollaborators:\n  tom: viewer\n")
def test_generated_texts_read_as_ruamel_reads_them(text: str) -> None:
    _assert_same_as_ruamel(text)


@QUICK
@given(text=site_texts)
def test_generated_site_shaped_texts_read_as_ruamel_reads_them(text: str) -> None:
    _assert_same_as_ruamel(text)


def _yaml_files() -> list[Path]:
    found = [
        path
        for folder in ("tests", "examples")
        for pattern in ("*.yaml", "*.yml")
        for path in (REPOSITORY / folder).rglob(pattern)
    ]
    return sorted(path for path in found if path.is_file())


def test_every_yaml_file_of_the_tests_and_examples_reads_as_ruamel_reads_it() -> None:
    files = _yaml_files()
    assert len(files) > 20
    read = [path for path in files if _assert_same_as_ruamel(path.read_text(encoding="utf-8"))]
    assert any(path.parent.name == "sites" for path in read)  # the fast path is used


def test_the_benchmarks_site_files_all_take_the_fast_path(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", REPOSITORY / "benchmarks/generate.py")
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = generate  # its dataclasses look their module up
    try:
        spec.loader.exec_module(generate)
        generate.generate_repository(tmp_path, 300)
    finally:
        del sys.modules["generate"]
    texts = [path.read_text(encoding="utf-8") for path in sorted(tmp_path.glob("sites/*.yaml"))]
    assert len(texts) == 300
    assert all(_assert_same_as_ruamel(text) for text in texts)


READ_FAST = [
    ("id: a\n", {"id": "a"}),
    ("id: a", {"id": "a"}),
    ("# c\n\nid: a  # c\nname: A B   \n", {"id": "a", "name": "A B"}),
    ("collaborators: {}             # nobody\n", {"collaborators": {}}),
    ("collaborators: []\n", {"collaborators": []}),
    ("collaborators:  # c\n  # c\n    a@b.example: editor\n",
     {"collaborators": {"a@b.example": "editor"}}),
    ("a:\n  b:\n    c: 1\n  d: 1.5\ne: true\n", {"a": {"b": {"c": 1}, "d": 1.5}, "e": True}),
    ("a: yes\nb: ~\nc: 0x1F\nd: 2026-01-05\ne: .inf\nf: 1e3\ng: a#b\nh: 1_000\ni: FALSE\n",
     {"a": "yes", "b": None, "c": 31, "d": "2026-01-05", "e": ".inf", "f": 1000.0, "g": "a#b",
      "h": 1000, "i": False}),
    ("name: O'Brien & Sons, a - b ? c | d > e ! f * g @ h ` i % j 'k' \"l\"\n",
     {"name": "O'Brien & Sons, a - b ? c | d > e ! f * g @ h ` i % j 'k' \"l\""}),
    ("  a: b\n  c: d\n", {"a": "b", "c": "d"}),
    ("# Café’s site 🙂\nname: Café Verde – Zürich  # ü\nowner: émile@x.example\n",
     {"name": "Café Verde – Zürich", "owner": "émile@x.example"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "data"), READ_FAST)
def test_the_fast_path_reads_the_site_file_subset(text: str, data: Any) -> None:
    fast = _fast_path(text)
    assert fast is not None
    assert fast.document is not None
    assert _typed(fast.document.data) == _typed(data)
    assert _assert_same_as_ruamel(text)


GIVES_UP = {
    "a tab": "id: a\n\tname: b\n",
    "a tab in a value": "id: a\tb\n",
    "a carriage return": "id: a\r\n",
    "a BOM": "\ufeffid: a\n",
    "non-ASCII in a key": "café: a\n",
    "a no-break space in a value": "name: a\u00a0b\n",
    "a no-break space after a value": "name: ab\u00a0\n",
    "a line separator in a comment": "id: a # \u2028\nname: b\n",
    "a BOM inside": "id: a\n\ufeffname: b\n",
    "a zero-width space": "name: a\u200bb\n",
    "a NEL line break": "name: a\u0085b\n",
    "a document start": "---\nid: a\n",
    "a document end": "id: a\n...\n",
    "a directive": "%YAML 1.2\n---\nid: a\n",
    "an anchor": "id: &x a\n",
    "an alias": "id: a\nname: *x\n",
    "a tag": "id: !!str 1\n",
    "a local tag": "id: !x a\n",
    "a flow mapping": "collaborators: {tom: viewer}\n",
    "a flow sequence": "collaborators: [tom]\n",
    "a spaced empty mapping": "collaborators: { }\n",
    "text after {}": "collaborators: {}x\n",
    "a single-quoted scalar": "id: 'a'\n",
    "a double-quoted scalar": 'id: "a"\n',
    "a literal block scalar": "name: |\n  a\n",
    "a folded block scalar": "name: >\n  a\n",
    "a continuation line": "name: a\n  b\n",
    "a complex key": "? id\n: a\n",
    "': ' in a value": "name: a: b\n",
    "a value ending in ':'": "name: a:\n",
    "a colon in a value": "name: a:b\n",
    "an empty value": "id:\nname: a\n",
    "an empty value at the end": "id: a\nname:\n",
    "an empty value with spaces": "id: \n",
    "a duplicate key": "id: a\nid: b\n",
    "a deeper line after a value": "id: a\n  name: b\n",
    "an indentation between levels": "a:\n    b: 1\n  c: 2\n",
    "a root less indented than its start": "  a: b\nc: d\n",
    "a sequence": "a:\n  - b\n",
    "a sequence at the key's indentation": "a:\n- b\n",
    "a key with a space": "a b: c\n",
    "a quoted key": "'a': b\n",
    "a key with a colon": "a:b: c\n",
    "a space before the colon": "a : b\n",
    "a very long key": "k" * 200 + ": a\n",
    "a value tag (=)": "a: =\n",
    "a merge key": "<<: a\n",
    "a reserved indicator": "a: @x\n",
    "a backtick": "a: `x\n",
    "a dash entry as a value": "a: - b\n",
    "only comments": "# nothing\n",
    "an empty text": "",
    "a control character": "id: a\x0cb\n",
    "deep nesting": "".join(" " * i + f"k{i}:\n" for i in range(12)) + " " * 12 + "v: 1\n",
}


@pytest.mark.parametrize("text", GIVES_UP.values(), ids=GIVES_UP.keys())
def test_the_fast_path_gives_up_outside_its_subset(text: str) -> None:
    assert _fast_path(text) is None
    # ... and parse_yaml answers what ruamel answers, problems and all.
    assert parse_yaml(text, FILE) == _ruamel_path(text)


def test_marks_are_ruamels_on_a_typical_file() -> None:
    text = (
        "# yaml-language-server: $schema=../schema/site.schema.json\n"
        "id: acme-alpine-00281\n"
        "collaborators:\n"
        "  studio@pixel.example: editor\n"
        "package: premium\n"
    )
    fast = _fast_path(text)
    assert fast is not None
    assert fast.document is not None
    values = fast.document.value_locations
    assert [(m.line, m.column) for m in values.marks.values()] == [
        (1, 0),  # the document's mapping: its first key
        (1, 4),
        (3, 2),  # a nested mapping: its first key
        (3, 24),
        (4, 9),
    ]
    assert fast.document.key_at(("collaborators", "studio@pixel.example")).line == 4
    assert isinstance(values.marks[()], fastyaml.Mark)


def test_a_text_that_guard_would_count_is_left_to_it() -> None:
    text = "a: 1\nb: 2\nc: 3\n"
    assert loader._fast_document(text, FILE, max_nodes=4) is None
    parsed = parse_yaml(text, FILE, max_nodes=4)
    assert [problem.message for problem in parsed.problems] == [
        "holds more than 4 values; a site file holds a few"
    ]


def test_the_fast_path_nests_less_deeply_than_the_loaders_limit() -> None:
    # Its texts need no depth guard: a {} or [] leaf is one level below the deepest key.
    assert fastyaml.MAX_LEVELS + 1 < loader.MAX_DEPTH
