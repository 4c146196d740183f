"""`reconciler validate --format text|json|github`: what CI and scripts read."""

from __future__ import annotations

import json

from desired_support import Repo

UNKNOWN_KEY = (
    "unknown key 'colour'; check the spelling "
    "(allowed: id, name, owner, billing_contact, collaborators, package, ask_again_after)"
)


def _broken_sites(repo: Repo, count: int) -> None:
    for i in range(count):
        repo.site(f"s{i:02d}", f"id: s{i:02d}\nowner: expert\ncolour: red\n")


def test_github_annotations_point_at_file_line_and_column(repo: Repo) -> None:
    repo.site("x", "id: x\nowner: expert\ncolour: red\n")
    repo.site("z-notes.txt", "")

    result = repo.validate("--format", "github")

    assert result.exit_code == 1
    assert result.lines == [
        f"::error file=sites/x.yaml,line=3,col=1::{UNKNOWN_KEY}",
        "::warning file=sites/z-notes.txt,line=1,col=1::ignored: site files are "
        "sites/<site-id>.yaml",
        "1 error in 1 file, 1 warning",
    ]


def test_github_annotates_at_most_ten_per_type_then_lists_the_rest(repo: Repo) -> None:
    _broken_sites(repo, 12)
    for name in ("z1.txt", "z2.txt"):
        repo.site(name, "")

    result = repo.validate("--format", "github")

    assert result.exit_code == 1
    annotations = [line for line in result.lines if line.startswith("::")]
    assert [line.split(" ", 1)[0] for line in annotations] == ["::error"] * 10 + ["::warning"] * 2
    assert annotations[9] == f"::error file=sites/s09.yaml,line=3,col=1::{UNKNOWN_KEY}"
    assert result.lines[12:] == [
        "12 errors in 12 files, 2 warnings (2 not annotated, listed below)",
        f"sites/s10.yaml:3:1: error: {UNKNOWN_KEY}",
        f"sites/s11.yaml:3:1: error: {UNKNOWN_KEY}",
    ]


def test_github_escapes_what_would_break_a_workflow_command(repo: Repo) -> None:
    repo.site("a,b:c.txt", "")
    repo.site("a", "id: a\nowner: expert\ncollaborators:\n  '100%\\n': viewer\n")

    result = repo.validate("--format", "github")

    assert result.lines[:2] == [
        "::warning file=sites/a%2Cb%3Ac.txt,line=1,col=1::ignored: site files are "
        "sites/<site-id>.yaml",
        "::error file=sites/a.yaml,line=4,col=3::unknown handle '100%25\\\\n'; add it to "
        "people.yaml or write an e-mail address",
    ]


def test_github_format_of_a_valid_repository_is_the_summary(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")

    result = repo.validate("--format", "github")

    assert (result.exit_code, result.lines) == (0, ["1 site file valid"])


def test_json_lists_every_problem(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")
    repo.site("b", "id: b\nowner: bob\n")

    result = repo.validate("--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "format_version": 1,
        "valid": False,
        "sites": 1,
        "problems": [
            {
                "file": "sites/b.yaml",
                "line": 2,
                "column": 8,
                "severity": "error",
                "message": "unknown handle 'bob'; add it to people.yaml or write an e-mail address",
            }
        ],
    }


def test_json_of_a_valid_repository(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")

    result = repo.validate("--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "format_version": 1,
        "valid": True,
        "sites": 1,
        "problems": [],
    }


def test_text_is_sorted_by_file_then_line(repo: Repo) -> None:
    repo.site("b", "id: b\nowner: expert\ncolour: red\n")
    repo.site("a", "id: a\nowner: expert\ncolour: red\nshape: round\n")

    result = repo.validate("--format", "text")

    assert [line.split(": ")[0] for line in result.lines[:-1]] == [
        "sites/a.yaml:3:1",
        "sites/a.yaml:4:1",
        "sites/b.yaml:3:1",
    ]
    assert result.lines[-1] == "3 errors in 2 files"


def test_an_unknown_format_is_a_usage_error(repo: Repo) -> None:
    result = repo.validate("--format", "xml")

    assert result.exit_code == 1  # DESIGN.md section 7: 1 for invalid input, never 2
    assert "'xml' is not one of 'text', 'json', 'github'" in result.stderr
