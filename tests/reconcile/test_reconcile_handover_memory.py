"""Handovers have a memory (DESIGN.md section 5): declined and expired handovers are not
started again silently, pending ones show their days left from the platform's clock, a
finished handover is recognised, and drift is a note of its own."""

from __future__ import annotations

from datetime import timedelta

from reconcile_support import (
    CLIENT,
    EXPERT,
    OTHER_CLIENT,
    STARTED,
    desired,
    note_pairs,
    observed,
    pending,
)

from reconciler.model import EndedTransfer, TransferEnd, TransferRecord, TransferStatus
from reconciler.reconcile.changes import NoteCode, TransferStart
from reconciler.reconcile.diff import Facts, diff_site
from reconciler.reconcile.plan import build_plan

ENDED = STARTED + timedelta(days=3)


def ended(status: TransferEnd, to: str = CLIENT, transfer_id: str = "tr_old") -> EndedTransfer:
    return EndedTransfer(
        id=transfer_id,
        to=to,
        stay_as_collaborator=False,
        status=status,
        created_at=STARTED,
        ended_at=ENDED,
    )


def sent(
    status: TransferStatus, *, stay: bool = False, site: str = "acme-bakery"
) -> TransferRecord:
    return TransferRecord(
        id="tr_sent",
        site_id=site,
        from_owner=EXPERT,
        to=CLIENT,
        stay_as_collaborator=stay,
        status=status,
        created_at=STARTED,
        expires_at=STARTED + timedelta(days=14),
        ended_at=ENDED,
    )


def test_a_declined_handover_is_not_started_again_and_the_plan_says_how_to_ask() -> None:
    result = diff_site(
        EXPERT, desired(CLIENT, collaborators={}), observed(last=ended(TransferEnd.DECLINED))
    )

    assert result.changes == []
    assert note_pairs(result.notes) == [
        (
            "blocked",
            f"{CLIENT} declined the handover on 2024-05-04; it is not started again until the "
            "site file asks again: add `ask_again_after: tr_old` to sites/acme-bakery.yaml in a "
            "reviewed pull request",
        )
    ]
    assert result.notes[0].code is NoteCode.HANDOVER_DECLINED
    assert dict(result.notes[0].data) == {
        "to": CLIENT,
        "ended_at": "2024-05-04",
        "transfer_id": "tr_old",
    }


def test_an_expired_handover_is_remembered_too() -> None:
    result = diff_site(
        EXPERT, desired(CLIENT, collaborators={}), observed(last=ended(TransferEnd.EXPIRED))
    )

    assert result.changes == []
    assert result.notes[0].message.startswith(
        f"the handover to {CLIENT} expired on 2024-05-04 without an answer; it is not started"
    )


def test_the_file_asks_again_and_the_handover_is_started() -> None:
    want = desired(CLIENT, collaborators={}, ask_again_after="tr_old")

    result = diff_site(EXPERT, want, observed(last=ended(TransferEnd.DECLINED)))

    assert [type(c) for c in result.changes] == [TransferStart]
    assert result.notes == []


def test_asking_another_recipient_or_after_a_cancel_needs_nothing_more() -> None:
    to_other = diff_site(
        EXPERT, desired(OTHER_CLIENT, collaborators={}), observed(last=ended(TransferEnd.DECLINED))
    )
    after_cancel = diff_site(
        EXPERT, desired(CLIENT, collaborators={}), observed(last=ended(TransferEnd.CANCELLED))
    )

    assert [type(c) for c in to_other.changes] == [TransferStart]
    assert [type(c) for c in after_cancel.changes] == [TransferStart]


def test_a_pending_handover_shows_its_days_left_from_the_platforms_clock() -> None:
    want = desired(CLIENT, collaborators={})
    have = observed(transfer=pending(CLIENT))

    calm = diff_site(EXPERT, want, have, Facts(now=STARTED + timedelta(days=2)))
    close = diff_site(EXPERT, want, have, Facts(now=STARTED + timedelta(days=11, hours=1)))

    assert note_pairs(calm.notes) == [
        (
            "waiting",
            f"handover to {CLIENT} pending since 2024-05-01; {CLIENT} must accept it before "
            "2024-05-15 (12 days left)",
        )
    ]
    assert note_pairs(close.notes) == [
        (
            "waiting",
            f"handover to {CLIENT} pending since 2024-05-01; {CLIENT} must accept it before "
            "2024-05-15 (3 days left)",
        ),
        (
            "warning",
            f"the transfer to {CLIENT} expires on 2024-05-15 (3 days left): remind {CLIENT} to "
            "accept it; once expired it is not started again until the site file asks again",
        ),
    ]
    assert [n.code for n in close.notes] == [
        NoteCode.HANDOVER_PENDING,
        NoteCode.HANDOVER_EXPIRING,
    ]


def test_a_finished_handover_in_which_the_expert_left_is_info_not_a_warning() -> None:
    facts = Facts(sent={"acme-bakery": sent(TransferStatus.ACCEPTED)})

    result = diff_site(EXPERT, desired(CLIENT, collaborators={}), None, facts)

    assert note_pairs(result.notes) == [
        ("info", f"handed over to {CLIENT} on 2024-05-04; the expert no longer has access")
    ]


def test_drift_the_client_removed_the_expert() -> None:
    want = desired(CLIENT, collaborators={EXPERT: "editor"})

    result = diff_site(
        EXPERT, want, None, Facts(sent={"acme-bakery": sent(TransferStatus.ACCEPTED, stay=True)})
    )

    assert note_pairs(result.notes) == [
        (
            "drift",
            f"{EXPERT} no longer sees this site, though sites/acme-bakery.yaml lists it as a "
            f"collaborator of {CLIENT}: {CLIENT} removed {EXPERT}, or the id is wrong; ask "
            f"{CLIENT} to add {EXPERT} again, or correct the id",
        )
    ]


def test_drift_the_client_started_a_transfer_the_files_do_not_ask_for() -> None:
    want = desired(CLIENT, collaborators={EXPERT: "editor"})
    have = observed(CLIENT, collaborators={EXPERT: "editor"}, transfer=pending(OTHER_CLIENT))

    plan = build_plan(EXPERT, {"acme-bakery": want}, {"acme-bakery": have})

    assert note_pairs(plan.notes) == [
        (
            "drift",
            f"{CLIENT} started a transfer to {OTHER_CLIENT} on 2024-05-01 that "
            f"sites/acme-bakery.yaml does not ask for (it names {CLIENT} as the owner); ask "
            f"{CLIENT} to cancel it, or write `owner: {OTHER_CLIENT}` if it is wanted",
        )
    ]
    assert plan.has_drift


def test_the_markdown_plan_has_a_section_per_kind_of_attention() -> None:
    from reconciler.render.plan import as_markdown

    plan = build_plan(
        EXPERT,
        {
            "a-site": desired(CLIENT, site="a-site", collaborators={EXPERT: "editor"}),
            "b-site": desired(CLIENT, site="b-site", collaborators={}),
            "c-site": desired(CLIENT, site="c-site", collaborators={}),
        },
        {
            "a-site": observed(
                CLIENT,
                site="a-site",
                collaborators={EXPERT: "editor"},
                transfer=pending(OTHER_CLIENT),
            ),
            "b-site": observed(site="b-site", last=ended(TransferEnd.EXPIRED)),
            "c-site": observed(site="c-site", transfer=pending(CLIENT)),
        },
        facts=Facts(now=STARTED + timedelta(days=12)),
    )

    text = as_markdown(plan)

    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == [
        "#### Drift (1)",
        "#### Waiting on clients (1)",
        "#### Handovers expiring within three days (1)",
        "#### Declined or expired handovers (1)",
    ]


def test_a_handover_started_this_second_has_14_days_left_by_a_whole_second_clock() -> None:
    started = STARTED.replace(microsecond=654_321)
    transfer = pending(CLIENT).model_copy(
        update={"created_at": started, "expires_at": started + timedelta(days=14)}
    )
    have = observed(transfer=transfer)

    result = diff_site(EXPERT, desired(CLIENT, collaborators={}), have, Facts(now=STARTED))

    assert result.notes[0].message.endswith("(14 days left)")


def test_the_markdown_plan_heads_the_pending_changes_per_site() -> None:
    from reconciler.render.plan import as_markdown

    plan = build_plan(
        EXPERT,
        {"a-site": desired(CLIENT, site="a-site", collaborators={})},
        {"a-site": observed(site="a-site")},
    )

    assert "#### Pending changes (1), with every note, per site\n\n<details>" in as_markdown(plan)
