"""Which run applied what to a site, from the apply notes (refs/notes/reconciler)."""

from __future__ import annotations

from reconciler.review.history import AppliedRun, runs_about

NOTE = """reconciler apply at 2026-11-27T04:02:49Z
plan sha256:2d51
Apply: 2 done, 0 failed, 0 skipped.
done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example (stays)
done    bistro-verdelicious: collaborator.add give tom@freelance.example viewer access

reconciler apply at 2026-11-28T09:00:00Z
plan sha256:99aa
Apply: 0 done, 1 failed, 0 skipped.
FAILED  acme-bakery: transfer.start HANDOVER to anna@acme-bakery.example (the expert leaves) - 422
"""


def test_only_the_runs_and_lines_about_the_site_are_kept() -> None:
    runs = runs_about("bistro-verde", [("c0ffee", NOTE)])

    assert runs == [
        AppliedRun(
            sha="c0ffee",
            when="2026-11-27T04:02:49Z",
            lines=(
                "done    bistro-verde: transfer.start HANDOVER to marco@bistro-verde.example "
                "(stays)",
            ),
        )
    ]
    assert [run.when for run in runs_about("acme-bakery", [("c0ffee", NOTE)])] == [
        "2026-11-28T09:00:00Z"
    ]
    assert runs_about("nope", [("c0ffee", NOTE)]) == []
