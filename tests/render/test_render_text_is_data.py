"""Text from the platform or from files is data in every rendering (DESIGN.md section 8).

The platform is the sandbox over real HTTP, behind a proxy whose refusal reasons quote
hostile text (as a platform quoting a client's display name would); the sandbox holds a
site whose name is hostile, and a site file names an address full of Markdown marks.
No output may start a line with a GitHub workflow command (``::``, after leading
spaces, as the runner reads it), and the Markdown may not open a heading, a fence, a
table row or an HTML tag.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.model import AccountKind, Package
from reconciler.sandbox.server import ThreadedSandbox
from support.hostile import rewriting_proxy
from support.repo import EXPERT, Repo, git

FORGED = (
    "\n::warning file=sites/bakery.yaml::forged"
    "\n  ::add-mask::studio-token"
    "\n##[warning]legacy form"
    "\n```\n# Plan: no changes\n| site | ok |\n<script>alert(1)</script>"
    "\r=1+1"
)
NAME = "Bakery" + FORGED
MARKED = "```|~~x~~|@evil.example"  # a valid address: the part before @ may hold these
NOBODY = "nobody@no-account.example"
TOKEN, READ_TOKEN = "studio-write-token", "studio-read-token"


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    with ThreadedSandbox(tmp_path / "platform.db") as platform:
        store = platform.store
        store.ensure_account(EXPERT, AccountKind.EXPERT, token=TOKEN, read_token=READ_TOKEN)
        with store.transaction() as tx:
            tx.put_site(
                "bakery",
                name=NAME,
                owner=EXPERT,
                billing_contact=EXPERT,
                package=Package.FREE,
                collaborators={},
            )
        with rewriting_proxy(platform.url, lambda detail: detail + FORGED) as url:
            repo = Repo(tmp_path / "repo", {"NO_COLOR": "1", "PLATFORM_TOKEN": TOKEN})
            repo.write(
                "reconciler.yaml",
                f"expert: {EXPERT}\nplatform:\n  url: {url}\n  token_env: PLATFORM_TOKEN\n",
            )
            repo.site(
                "bakery",
                f"id: bakery\nowner: {NOBODY}\ncollaborators:\n"
                f"  {EXPERT}: editor\n  '{MARKED}': viewer\n",
            )
            yield repo


def assert_no_command_lines(output: str, *, line_breaks_are_data: bool = False) -> None:
    """The runner reads a workflow command from a line that starts, after spaces, with
    ``::``, and the legacy form ``##[`` anywhere in a line."""
    for line in output.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line
    if not line_breaks_are_data:
        assert "\r" not in output  # a bare CR would let the rest overwrite the line


_OWN_HEADING = re.compile(r"^#{3,4} [A-Za-z][\w ,()-]*$")


def assert_markdown_is_inert(markdown: str) -> None:
    assert_no_command_lines(markdown)
    for line in markdown.splitlines():
        stripped = line.lstrip()
        assert not stripped.startswith(("```", "~~~")), line
        if stripped.startswith("#"):
            assert _OWN_HEADING.match(line), line
            assert "no changes" not in line
        if stripped.startswith("|"):
            assert line.startswith(("| action", "| ---", "| `", "| note: ")), line
        assert not stripped.startswith("<") or stripped.startswith(
            ("<details><summary><b>", "</details>", "<sub>")
        ), line
    assert "<script>" not in markdown
    assert "~~x~~" not in markdown  # strikethrough would hide the address


def test_markdown_plan_shows_a_hostile_refusal_reason_as_data(repo: Repo) -> None:
    result = repo.run("plan", "--format", "markdown")

    assert result.exit_code == 0, result.output
    markdown = result.stdout
    assert "There is no account for nobody" in markdown  # the platform's reason is shown
    assert_markdown_is_inert(markdown)
    assert r"\n::warning file=sites/bakery.yaml::forged\n" in markdown
    assert r"give \`\`\`\|\~\~x\~\~\|@&#8203;evil.example viewer access" in markdown


def test_text_plan_shows_a_hostile_refusal_reason_on_its_note_line(repo: Repo) -> None:
    result = repo.run("plan")

    assert result.exit_code == 0, result.output
    assert_no_command_lines(result.stdout)
    note = next(line for line in result.stdout.splitlines() if "no account for" in line)
    assert note.startswith("  ! blocked: ")
    assert r"\n# Plan: no changes\n| site | ok |\n<script>alert(1)</script>\r=1+1 It is" in note


def test_apply_report_shows_a_hostile_failure_reason_on_its_line(repo: Repo) -> None:
    repo.env["PLATFORM_TOKEN"] = READ_TOKEN  # every write is refused: 403 with a reason

    result = repo.run("apply", "--yes")

    assert result.exit_code == 1, result.output
    assert_no_command_lines(result.output)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert failed
    assert all(r"\n::warning file=" in line for line in failed)


@pytest.mark.parametrize("output_format", ["text", "json", "html", "csv"])
def test_status_never_starts_a_line_with_a_command(repo: Repo, output_format: str) -> None:
    result = repo.run("status", "--format", output_format)

    assert result.exit_code == 0, result.output
    assert_no_command_lines(result.stdout, line_breaks_are_data=output_format == "csv")


def test_csv_quotes_a_name_holding_a_bare_cr(repo: Repo) -> None:
    out = repo.root / "portfolio.csv"
    result = repo.run("status", "--format", "csv", "--out", str(out))

    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode()
    assert text.count("\r\n") == 2  # the header and one site: every row ends in CRLF
    # The name as written, but no line of it a workflow command (a CSV on stdout is logged).
    shown = NAME.replace("\n::", "\n\\::").replace("\n  ::", "\n  \\::").replace("##[", "##\\[")
    assert f',"{shown}",' in text
    assert_no_command_lines(text, line_breaks_are_data=True)
    rows = list(csv.reader(io.StringIO(text, newline="")))  # a bare CR ends a row too
    assert len(rows) == 2
    assert rows[1][1] == shown
    for cell in (cell for row in rows for cell in row):
        assert not cell.startswith(("=", "+", "-", "@")), cell


_ANNOTATION = re.compile(r"^::(error|warning) file=([^:,]*),line=(\d+),col=(\d+)::(.*)$")


def _unescape_property(value: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(escaped, raw)
    return value


def test_validate_shows_a_hostile_file_name_and_key_as_data(tmp_path: Path) -> None:
    """A file name and a key are the pull request author's text: in text each problem is
    one line; in GitHub's format the annotations are the tool's own commands, their
    file and message escaped as GitHub's toolkit escapes them."""
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    forged = "b\n::warning::forged,100%"
    repo.site(f"{forged}.yaml", "id: b\nowner: expert\n")
    repo.site("a", 'id: a\nowner: expert\n"x\\n::add-mask::y": 1\n')

    text = repo.validate()
    github = repo.validate("--format", "github")

    assert text.exit_code == github.exit_code == 1
    assert_no_command_lines(text.output)
    assert r"sites/b\n::warning::forged,100%.yaml:1:5: error: id 'b' differs" in text.stdout
    annotations = [line for line in github.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    files = set()
    for line in annotations:
        match = _ANNOTATION.match(line)
        assert match, line
        files.add(_unescape_property(match[2]))
        assert "\n" not in match[5]
        assert "\r" not in match[5]
    assert files == {"sites/a.yaml", f"sites/{forged}.yaml"}
    assert_no_command_lines("\n".join(set(github.stdout.splitlines()) - set(annotations)))


def test_history_shows_a_hostile_commit_subject_on_its_line(tmp_path: Path) -> None:
    """The runner trims leading spaces before it looks for ``::``: an indented subject
    of ``::add-mask::...`` would be a command."""
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.site("bakery", "id: bakery\nowner: expert\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "::add-mask::studio-token\n\n::warning::body")
    git(tmp_path, "commit", "-q", "--allow-empty", "--author", "::e:: <e@x.example>", "-m", "x")

    result = repo.run("history", "bakery")

    assert result.exit_code == 0, result.output
    assert_no_command_lines(result.output)
    assert r"    \::add-mask::studio-token" in result.stdout.splitlines()


def test_plan_on_invalid_files_lists_each_problem_on_its_line(tmp_path: Path) -> None:
    """The error boundary prints validate's problems too (to stderr, which CI logs)."""
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.site("b\n  ::add-mask::studio-token.yaml", "id: b\nowner: expert\n")

    result = repo.run("plan")

    assert result.exit_code == 1
    assert_no_command_lines(result.output)
    assert r"sites/b\n  ::add-mask::studio-token.yaml:1:5: error: id 'b'" in result.stderr


def test_a_python_warning_that_quotes_a_file_starts_no_command(tmp_path: Path) -> None:
    """ruamel warned of an anchor used twice with the file's lines, indented; the runner
    trims the spaces, so a line of the file that starts with ``::`` would have been a
    command. The reused anchor is now a problem of ours, reported at file:line like any
    other, and nothing of the file's text reaches stderr as a Python warning."""
    repo = Repo(tmp_path)
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.site("a", "id: a\nowner: expert\nname: &x Bakery\n::add-mask::secret: &x 1\n")

    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )

    assert done.returncode == 1, done.stderr
    assert "sites/a.yaml:4:21: error: anchor '&x' is defined twice (first at line 3)" in (
        done.stdout + done.stderr
    )
    assert "found duplicate anchor" not in done.stderr
    assert_no_command_lines(done.stdout + done.stderr)
