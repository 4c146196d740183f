"""Broken, odd and hostile YAML: a clear problem at a line, never a traceback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from desired_support import Repo

TAG_HINT = "site files hold only text, numbers, booleans, lists and mappings: remove the tag"

# (file text or bytes, the exact problem lines `validate` prints for sites/a.yaml)
BAD_INPUTS = {
    "empty file": (b"", ["sites/a.yaml:1:1: error: is empty; it must hold a YAML mapping"]),
    "only comments": (
        "# nothing here\n",
        ["sites/a.yaml:1:1: error: is empty; it must hold a YAML mapping"],
    ),
    "not UTF-8": (
        "id: a\nname: Café\n".encode("latin-1"),
        ["sites/a.yaml:1:1: error: is not UTF-8 text (invalid continuation byte at byte 15)"],
    ),
    "binary junk": (
        bytes(range(256)) * 4,
        ["sites/a.yaml:1:1: error: is not UTF-8 text (invalid start byte at byte 128)"],
    ),
    "a control character": (
        "id: a\nowner: expert\nname: bell\x07\n",
        [
            "sites/a.yaml:3:11: error: contains the character #x0007, which YAML does not "
            "allow; remove it"
        ],
    ),
    "a list, not a mapping": (
        "- id: a\n- owner: expert\n",
        ["sites/a.yaml:1:1: error: must hold a YAML mapping (key: value), not a list"],
    ),
    "a plain text, not a mapping": (
        "just some text\n",
        ["sites/a.yaml:1:1: error: must hold a YAML mapping (key: value), not 'just some text'"],
    ),
    "a null document": (
        "~\n",
        ["sites/a.yaml:1:1: error: must hold a YAML mapping (key: value), not empty"],
    ),
    "duplicate keys": (
        "id: a\nowner: expert\nowner: anna\n",
        ["sites/a.yaml:3:1: error: duplicate key 'owner' (first at line 2); keep one of them"],
    ),
    "duplicate collaborator": (
        "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n  tom: editor\n",
        ["sites/a.yaml:5:3: error: duplicate key 'tom' (first at line 4); keep one of them"],
    ),
    "a tab in the indentation": (
        "id: a\nowner: expert\ncollaborators:\n\ttom: viewer\n",
        [
            "sites/a.yaml:4:1: error: YAML syntax error: found character '\\t' that cannot "
            "start any token (while scanning for the next token); YAML does not allow tabs "
            "for indentation: indent with spaces"
        ],
    ),
    "bad indentation": (
        "id: a\n  owner: expert\n",
        [
            "sites/a.yaml:2:8: error: YAML syntax error: mapping values are not allowed here; "
            "check the indentation and quoting here"
        ],
    ),
    "an unclosed quote": (
        "id: a\nowner: 'expert\n",
        [
            "sites/a.yaml:3:1: error: YAML syntax error: found unexpected end of stream "
            "(while scanning a quoted scalar); check the indentation and quoting here"
        ],
    ),
    "two documents": (
        "id: a\nowner: expert\n---\nid: b\n",
        [
            "sites/a.yaml:3:1: error: YAML syntax error: but found another document "
            "(expected a single document in the stream); check the indentation and quoting here"
        ],
    ),
    # libyaml refuses it, and ruamel's pure-Python parser, asked next, failed with an
    # AttributeError on the directive (exit 70): libyaml's refusal is the problem.
    "a YAML directive without a document start": (
        "%YAML 1.2\nid: a\n",
        [
            "sites/a.yaml:2:1: error: YAML syntax error: did not find expected <document "
            "start>; check the indentation and quoting here"
        ],
    ),
    "a YAML directive without a document start, and anchors": (
        "%YAML 1.2\nid: &a a\nowner: &a b\n",
        [
            "sites/a.yaml:2:1: error: YAML syntax error: did not find expected <document "
            "start>; check the indentation and quoting here"
        ],
    ),
    "a key that is a list": (
        "id: a\nowner: expert\n[tom, anna]: viewer\n",
        ["sites/a.yaml:3:1: error: a key must be a plain value, not a list or mapping"],
    ),
    "a complex key": (
        "id: a\nowner: expert\n? {tom: 1}\n: viewer\n",
        ["sites/a.yaml:3:3: error: a key must be a plain value, not a list or mapping"],
    ),
    "a recursive alias": (
        "a: &x [*x]\n",
        ["sites/a.yaml:1:4: error: contains an alias of itself; write the values out instead"],
    ),
    "a recursive alias in a mapping": (
        "id: a\nowner: expert\ncollaborators: &c {tom: *c}\n",
        ["sites/a.yaml:3:16: error: contains an alias of itself; write the values out instead"],
    ),
    "an anchor defined twice": (
        "id: a\nowner: &who expert\nbilling_contact: &who expert\n",
        [
            "sites/a.yaml:3:18: error: anchor '&who' is defined twice (first at line 2); "
            "give each anchor its own name"
        ],
    ),
    "an anchor named ':' defined twice": (
        "&: : &:\n",
        [
            "sites/a.yaml:1:6: error: anchor '&:' is defined twice (first at line 1); "
            "give each anchor its own name"
        ],
    ),
    "a python object tag": (
        "!!python/object:os.system\nid: a\nowner: expert\n",
        [f"sites/a.yaml:1:1: error: unsupported YAML tag '!!python/object:os.system'; {TAG_HINT}"],
    ),
    "a python tag on a value": (
        "id: a\nowner: !!python/name:os.getcwd expert\n",
        [f"sites/a.yaml:2:8: error: unsupported YAML tag '!!python/name:os.getcwd'; {TAG_HINT}"],
    ),
    "a custom tag on a key": (
        "id: a\n!secret owner: expert\n",
        [f"sites/a.yaml:2:1: error: unsupported YAML tag '!secret'; {TAG_HINT}"],
    ),
    "a binary value": (
        "id: a\nowner: expert\nname: !!binary QUNNRQ==\n",
        [f"sites/a.yaml:3:7: error: unsupported YAML tag '!!binary'; {TAG_HINT}"],
    ),
    "very deep nesting": (
        "id: a\nowner: expert\nname: " + "[" * 1000 + "]" * 1000 + "\n",
        ["sites/a.yaml:3:39: error: nests deeper than 32 levels"],
    ),
    "a billion laughs": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        [
            "sites/a.yaml:1:35: error: expands through aliases to more than 100000 values; "
            "write the values out instead"
        ],
    ),
}


@pytest.mark.parametrize(("content", "expected"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_a_broken_file_is_one_clear_problem(
    repo: Repo, content: str | bytes, expected: list[str]
) -> None:
    repo.site("a", content)
    repo.site("ok", "id: ok\nowner: expert\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        *expected,
        f"{len(expected)} error{'s' * (len(expected) > 1)} in 1 file",
    ]
    assert result.stderr == ""


def test_plain_aliases_are_expanded(repo: Repo) -> None:
    repo.site(
        "a",
        """\
        id: a
        owner: &who lena@harbor-yoga.example
        billing_contact: *who
        collaborators: &team {tom: editor}
        """,
    )

    assert repo.validate().lines == ["1 site file valid"]


def test_an_alias_used_as_a_duplicate_key_is_reported(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  &t tom: viewer\n  *t : editor\n")

    result = repo.validate()

    # An alias shares its anchor's node, so both keys are at the anchor's position.
    assert result.lines[0] == (
        "sites/a.yaml:4:3: error: duplicate key 'tom' (first at line 4); keep one of them"
    )


def test_a_byte_order_mark_is_accepted(repo: Repo) -> None:
    repo.site("a", "\ufeffid: a\nowner: expert\n".encode())

    assert repo.validate().lines == ["1 site file valid"]


def test_windows_line_endings_are_accepted(repo: Repo) -> None:
    repo.site("a", b"id: a\r\nowner: expert\r\ncolour: red\r\n")

    assert repo.validate().lines[0].startswith("sites/a.yaml:3:1: error: unknown key 'colour'")


def test_a_directory_named_like_a_site_file_is_warned_about(repo: Repo) -> None:
    (repo.root / "sites" / "x.yaml").mkdir()
    repo.site("a", "id: a\nowner: expert\n")

    result = repo.validate()

    assert (result.exit_code, result.lines) == (
        0,
        [
            "sites/x.yaml:1:1: warning: ignored: not a file; site files are sites/<site-id>.yaml",
            "1 site file valid, 1 warning",
        ],
    )


def test_hidden_files_are_not_site_files(repo: Repo) -> None:
    repo.site(".a.yaml", "this: is an editor's backup\n")
    repo.site("a", "id: a\nowner: expert\n")

    assert repo.validate().lines == ["1 site file valid"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unreadable_file_is_reported(repo: Repo) -> None:
    path = repo.site("a", "id: a\nowner: expert\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: every file is readable")
        result = repo.validate()
    finally:
        path.chmod(0o644)

    assert result.exit_code == 1
    assert result.lines[0] == "sites/a.yaml:1:1: error: cannot be read: Permission denied"


@contextmanager
def unwritable(path: Path) -> Iterator[str]:
    """``path`` cannot be written while the block runs: read-only by its mode, or, for
    root (whom modes do not stop), immutable (``chattr +i``); skipped where neither
    holds. Yields the reason the system gives for a write."""
    path.chmod(0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK):
            made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if made.returncode != 0:
                pytest.skip("running as root without chattr: every file is writable")
            immutable = True
        yield "Operation not permitted" if immutable else "Permission denied"
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_fmt_cannot_write_is_reported_and_the_others_are_written(repo: Repo) -> None:
    stuck = repo.site("a", "owner: expert\nid: a\n")
    repo.site("b", "owner: expert\nid: b\n")
    with unwritable(stuck) as reason:
        result = repo.run("fmt")

    assert result.exit_code == 1
    assert result.stdout == "reformatted sites/b.yaml\n"
    assert result.stderr == f"skipped sites/a.yaml: cannot be written: {reason}\n"
    assert repo.read_site("a") == "owner: expert\nid: a\n"
    assert repo.read_site("b") == "id: b\nowner: expert\n"
