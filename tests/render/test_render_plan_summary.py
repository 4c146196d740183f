"""The plan's summary line says what is there: never "the platform matches the site
files" beside a note that says it does not (drift, blocked, waiting, a warning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.reconcile.changes import Note, NoteKind
from reconciler.reconcile.plan import Plan
from reconciler.render.plan import summary_line
from support.repo import EXPERT, Repo

FAY = "fay@fay-flowers.example"
MATCHES = "No changes: the platform matches the site files."


def test_drift_plan_exits_2_and_never_says_the_platform_matches(tmp_path: Path) -> None:
    """A client-owned site that lists the expert as editor, which the expert can no
    longer see: drift, so --detailed-exitcode is 2."""
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.seed(
        {
            "accounts": [
                {"email": EXPERT, "kind": "expert", "token": "studio-token"},
                {"email": FAY, "kind": "customer"},
            ],
            "sites": [{"id": "flowers", "name": "Flowers", "owner": FAY}],
        }
    )
    repo.site("flowers", f"id: flowers\nowner: {FAY}\ncollaborators:\n  {EXPERT}: editor\n")

    text = repo.run("plan", "--detailed-exitcode")
    markdown = repo.run("plan", "--format", "markdown", "--detailed-exitcode")

    assert text.exit_code == 2, text.output
    assert markdown.exit_code == 2, markdown.output
    expected = (
        "No changes to apply, but the platform does not match the site files of 1 site: "
        "see the notes. Notes: 1 drift."
    )
    assert text.stdout.splitlines()[-1] == expected
    assert expected in markdown.stdout
    assert "matches" not in text.stdout + markdown.stdout


def _plan(*kinds: NoteKind) -> Plan:
    notes = tuple(Note(site=f"site-{i}", kind=kind, message="...") for i, kind in enumerate(kinds))
    scope = tuple(note.site for note in notes)
    return Plan(expert=EXPERT, fingerprint="sha256:0", scope=scope, changes=(), notes=notes)


@pytest.mark.parametrize(
    "kind", [NoteKind.DRIFT, NoteKind.BLOCKED, NoteKind.WAITING, NoteKind.WARNING]
)
def test_a_note_that_needs_attention_is_never_beside_matches(kind: NoteKind) -> None:
    line = summary_line(_plan(kind, NoteKind.UNMANAGED))

    counts = ", ".join(sorted([f"1 {kind.value}", "1 unmanaged"]))  # kinds in name order
    assert line == (
        "No changes to apply, but the platform does not match the site files of 1 site: "
        f"see the notes. Notes: {counts}."
    )


def test_unmanaged_sites_and_info_leave_the_files_matched() -> None:
    assert summary_line(_plan()) == MATCHES
    assert summary_line(_plan(NoteKind.UNMANAGED, NoteKind.INFO)) == (
        MATCHES + " Notes: 1 info, 1 unmanaged."
    )
