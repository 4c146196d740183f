"""Plans: order, determinism, fingerprint, policies, plan files, freshness and scope."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import TypeVar

import pytest
from reconcile_support import (
    CLIENT,
    EVE,
    EXPERT,
    EXPERT_ACCOUNTS,
    FREDA,
    MAX,
    OTHER_CLIENT,
    PAID_UNTIL,
    SITE,
    TOM,
    Fleet,
    Saved,
    by_id,
    desired,
    observed,
    pending,
    plan_of,
)

from reconciler.desired.config import Policy
from reconciler.errors import PlanRefused
from reconciler.model import ObservedSite
from reconciler.operations.planfile import load_plan
from reconciler.reconcile.apply import idempotency_key
from reconciler.reconcile.changes import Action, NoteKind, Phase, change_from_json
from reconciler.reconcile.plan import (
    FORMAT_VERSION,
    Plan,
    build_plan,
    check_fresh,
    check_policy,
    fingerprint,
)

T = TypeVar("T")

# --- order ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "details", "phase"),
    [
        ("collaborator.add", {"email": TOM, "role": "viewer"}, Phase.GRANT),
        (
            "collaborator.update",
            {"email": TOM, "role": "admin", "previous_role": "viewer", "raises": True},
            Phase.GRANT,
        ),
        ("billing_contact.set", {"email": EXPERT, "previous": None}, Phase.BILLING),
        (
            "transfer.cancel",
            {"to": CLIENT, "transfer_id": "tr_1", "reason": "pending to someone else"},
            Phase.TRANSFER_CANCEL,
        ),
        (
            "transfer.start",
            {
                "to": CLIENT,
                "stay_as_collaborator": True,
                "billing_contact_before": EXPERT,
                "package": "free",
                "package_paid_until": None,
            },
            Phase.TRANSFER_START,
        ),
        ("package.purchase", {"package": "premium", "previous": "free"}, Phase.PURCHASE),
        ("collaborator.remove", {"email": TOM, "previous_role": "editor"}, Phase.REVOKE),
        (
            "collaborator.update",
            {"email": TOM, "role": "viewer", "previous_role": "admin", "raises": False},
            Phase.REVOKE,
        ),
    ],
)
def test_each_action_has_its_phase(action: str, details: dict[str, object], phase: Phase) -> None:
    change = change_from_json({"site": SITE, "action": action, "details": details})

    assert change.action is Action(action)

    assert change.phase is phase


def test_a_kept_site_over_the_cap_buys_first_then_grants_bills_cancels_revokes() -> None:
    """Three collaborators and one more on a free site: premium is bought first, since
    the addition would not fit otherwise (DESIGN.md section 5); the rest keeps its order."""
    plan = plan_of(
        [
            (
                desired(
                    billing_contact=EXPERT_ACCOUNTS,
                    collaborators={TOM: "editor", FREDA: "admin", MAX: "viewer"},
                    package="premium",
                ),
                observed(
                    collaborators={FREDA: "editor", MAX: "admin", EVE: "viewer"},
                    transfer=pending(CLIENT),
                ),
            )
        ]
    )

    assert [(c.action.value, getattr(c, "email", None)) for c in plan.changes] == [
        ("package.purchase", None),
        ("collaborator.update", FREDA),
        ("collaborator.add", TOM),
        ("billing_contact.set", EXPERT_ACCOUNTS),
        ("transfer.cancel", None),
        ("collaborator.remove", EVE),
        ("collaborator.update", MAX),
    ]


def test_a_handover_grants_cancels_starts_then_revokes() -> None:
    plan = plan_of(
        [
            (
                desired(CLIENT, collaborators={EXPERT: "editor", TOM: "editor", MAX: "viewer"}),
                observed(
                    collaborators={MAX: "admin", FREDA: "viewer"},
                    package="premium",  # room for one more: the default order holds
                    transfer=pending(EVE),
                ),
            )
        ]
    )

    assert [c.action.value for c in plan.changes] == [
        "collaborator.add",
        "transfer.cancel",
        "transfer.start",
        "collaborator.remove",
        "collaborator.update",
    ]


def test_sites_are_planned_in_id_order() -> None:
    plan = plan_of(
        [
            (desired(site=site, collaborators={TOM: "viewer"}), observed(site=site))
            for site in ["zeta", "alpha", "mid"]
        ]
    )

    assert [c.site for c in plan.changes] == ["alpha", "mid", "zeta"]
    assert plan.scope == ("alpha", "mid", "zeta")


# --- determinism and fingerprint ------------------------------------------------------


def _shuffled(items: list[T], seed: int) -> list[T]:
    return random.Random(seed).sample(items, len(items))


def _reordered(site: ObservedSite, seed: int) -> ObservedSite:
    """The same site, its collaborators listed in another order."""
    collaborators = dict(_shuffled(list(site.collaborators.items()), seed))
    return site.model_copy(update={"collaborators": collaborators})


@pytest.mark.parametrize("seed", range(5))
def test_the_same_inputs_in_any_order_give_the_same_plan(seed: int, fleet: Fleet) -> None:
    wants, haves = fleet
    reference = build_plan(EXPERT, by_id(wants), by_id(haves))

    shuffled = build_plan(
        EXPERT,
        by_id(_shuffled(wants, seed)),
        by_id(_reordered(have, seed) for have in _shuffled(haves, seed)),
    )

    assert shuffled.to_json() == reference.to_json()
    assert reference.has_changes
    assert reference.notes


def test_the_fingerprint_ignores_listing_order(fleet: Fleet) -> None:
    _, haves = fleet

    assert fingerprint(haves) == fingerprint(reversed(haves))
    assert fingerprint(haves) == fingerprint(_reordered(have, 3) for have in haves)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", fingerprint(haves))


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"collaborators": {TOM: "viewer"}},
        {"billing_contact": EXPERT_ACCOUNTS},
        {"package": "premium"},
        {"package_paid_until": PAID_UNTIL},
        {"pending_transfer": pending(CLIENT)},
        {"owner": CLIENT},
        {"name": "Renamed"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_fingerprint_changes_with_any_observed_site(change: dict[str, object]) -> None:
    before = observed(collaborators={TOM: "editor"})
    after = ObservedSite.model_validate({**before.model_dump(), **change})
    others = [observed(site="other-site")]

    assert fingerprint([*others, after]) != fingerprint([*others, before])


def test_a_plan_fingerprints_the_sites_in_scope_only(fleet: Fleet) -> None:
    wants, haves = fleet
    plan = build_plan(EXPERT, by_id(wants), by_id(haves))
    unmanaged = next(have for have in haves if have.id == "old-shop")

    assert plan.fingerprint == fingerprint(have for have in haves if have.id != "old-shop")
    bumped = [have for have in haves if have.id != "old-shop"]
    bumped.append(unmanaged.model_copy(update={"version": 99}))
    assert build_plan(EXPERT, by_id(wants), by_id(bumped)).fingerprint == plan.fingerprint
    assert dict(plan.versions) == {"a-site": 1, "b-site": 1, "c-site": 1, "d-site": 7}


GOLDEN_SITES = [
    observed(site="b-site", collaborators={TOM: "editor", FREDA: "viewer"}),
    observed(
        CLIENT,
        site="a-site",
        package="premium",
        paid_until=PAID_UNTIL,
        transfer=pending(OTHER_CLIENT, stay=True),
    ).model_copy(update={"name": 'Bäckerei été "quoted" \\ \n\u200b'}),
    observed(site="c-site").model_copy(
        update={"package_known": False, "unmapped_access": {MAX: "custom", EVE: "billing"}}
    ),
]
GOLDEN_FINGERPRINT = "sha256:a000d2aa9d015f4860044b0b9d7a5c2dce4a1b3908c1ab337cc029ef7578c714"


def test_the_fingerprint_stays_what_earlier_plans_recorded() -> None:
    # A saved plan is checked against the fingerprint of a fresh listing: a change in how
    # it is computed would refuse every plan saved before.
    assert fingerprint(GOLDEN_SITES) == GOLDEN_FINGERPRINT


# --- policies -------------------------------------------------------------------------


def _handovers_and_removals(handovers: int, removals: int) -> Plan:
    pairs = [
        (desired(CLIENT, site=f"handover-{n}"), observed(site=f"handover-{n}"))
        for n in range(handovers)
    ]
    people = {f"person{n}@freelance.example": "viewer" for n in range(removals)}
    pairs.append((desired(collaborators={}), observed(collaborators=people)))
    return plan_of(pairs)


@pytest.mark.parametrize(
    ("handovers", "removals", "refused"),
    [
        (0, 0, None),
        (2, 3, None),
        (3, 0, "the plan has 3 handovers (policy.max_handovers is 2)"),
        (0, 4, "the plan has 4 access removals (policy.max_removals is 3)"),
        (
            3,
            4,
            "the plan has 3 handovers (policy.max_handovers is 2) and "
            "4 access removals (policy.max_removals is 3)",
        ),
    ],
)
def test_policies_cap_handovers_and_removals(
    handovers: int, removals: int, refused: str | None
) -> None:
    plan = _handovers_and_removals(handovers, removals)
    policy = Policy(max_handovers=2, max_removals=3)

    if refused is None:
        check_policy(plan, policy)
    else:
        with pytest.raises(PlanRefused) as caught:
            check_policy(plan, policy)
        assert caught.value.message == (
            f"{refused}; review it, then split the change, raise the limit in "
            "reconciler.yaml, or pass --force"
        )
    check_policy(plan, policy, force=True)


def test_a_zero_limit_refuses_any_handover() -> None:
    with pytest.raises(PlanRefused, match=r"1 handover \(policy.max_handovers is 0\)"):
        check_policy(_handovers_and_removals(1, 0), Policy(max_handovers=0))


# --- plan files -----------------------------------------------------------------------


def test_a_saved_plan_loads_back_the_same(saved: Saved) -> None:
    plan, path = saved

    loaded = load_plan(path)

    assert loaded == plan
    assert loaded.to_json() == path.read_text(encoding="utf-8")
    assert loaded.changes[0].phase == plan.changes[0].phase


def test_a_plan_file_has_the_public_shape(saved: Saved) -> None:
    plan, path = saved

    data = json.loads(path.read_text(encoding="utf-8"))

    assert data["format_version"] == FORMAT_VERSION == 1
    assert data["fingerprint"] == plan.fingerprint
    assert {"site", "action", "details"} == set(data["changes"][0])
    assert {"site", "kind", "message"} == set(data["notes"][0])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not a plan file written by `reconciler plan --out` \(the file: "),
        ("", "is not a plan file written by `reconciler plan --out`"),
        ("[1, 2]", "is not a plan file written by `reconciler plan --out`"),
        (b"\xff\xfe\x00\x01binary", "is not a plan file written by `reconciler plan --out`"),
        ('{"format_version": 1}', r"\(fingerprint: Field required\)"),
        (
            '{"format_version": 1, "fingerprint": "x", "expert": "e@x.example", "scope": [],'
            ' "changes": [{"site": "s", "action": "site.delete", "details": {}}]}',
            r"\(changes\.0\.action: Input should be",
        ),
    ],
    ids=["truncated", "empty", "a list", "binary", "missing keys", "unknown action"],
)
def test_a_corrupt_plan_file_is_refused(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "plan.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(PlanRefused, match=message) as caught:
        load_plan(path)
    assert str(path) in caught.value.message


@pytest.mark.parametrize("shape", ["same", "different"])
def test_a_plan_in_another_format_is_refused(saved: Saved, shape: str) -> None:
    plan, path = saved
    data = json.loads(plan.to_json()) if shape == "same" else {"sites": {}}
    path.write_text(json.dumps({**data, "format_version": 2}), encoding="utf-8")

    with pytest.raises(PlanRefused) as caught:
        load_plan(path)
    assert caught.value.message == (
        f"{path} has plan format 2; this reconciler reads format 1: make the plan again "
        "with this version"
    )


def test_a_missing_plan_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"

    with pytest.raises(PlanRefused) as caught:
        load_plan(path)
    assert caught.value.message == f"cannot read the plan file {path}: No such file or directory"


# --- freshness ------------------------------------------------------------------------


def test_a_plan_is_fresh_while_the_platform_is_unchanged(fleet: Fleet) -> None:
    wants, haves = fleet
    plan = build_plan(EXPERT, by_id(wants), by_id(haves))

    check_fresh(plan, by_id(reversed(haves)))
    untouched = [h.model_copy(update={"version": 50}) if h.id == "old-shop" else h for h in haves]
    check_fresh(plan, by_id(untouched))


@pytest.mark.parametrize(
    "platform_change",
    ["a version bump", "a new pending transfer", "a site gone", "a site appeared"],
)
def test_a_stale_plan_is_refused(platform_change: str, fleet: Fleet) -> None:
    wants, haves = fleet
    wants.append(desired(site="f-site"))  # a file for a site not yet on the platform
    plan = build_plan(EXPERT, by_id(wants), by_id(haves))
    now = by_id(haves)
    match platform_change:
        case "a version bump":
            now["a-site"] = now["a-site"].model_copy(update={"version": 2})
        case "a new pending transfer":
            now["d-site"] = now["d-site"].model_copy(update={"pending_transfer": pending()})
        case "a site gone":
            del now["c-site"]
        case "a site appeared":
            now["f-site"] = observed(site="f-site")

    with pytest.raises(PlanRefused) as caught:
        check_fresh(plan, now)
    assert caught.value.message == (
        "the platform changed since this plan was made (its fingerprint no longer matches); "
        "run `reconciler plan --out FILE` again and review the new plan"
    )


def test_a_loaded_plan_checks_freshness_like_the_original(saved: Saved, fleet: Fleet) -> None:
    plan, path = saved
    _, haves = fleet

    check_fresh(load_plan(path), by_id(haves))
    assert load_plan(path).fingerprint == plan.fingerprint


# --- scope ----------------------------------------------------------------------------


def test_a_scoped_plan_covers_only_the_listed_sites(fleet: Fleet) -> None:
    wants, haves = fleet

    plan = build_plan(EXPERT, by_id(wants), by_id(haves), scope=["a-site", "d-site"])

    assert {c.site for c in plan.changes} == {"a-site", "d-site"}
    assert {n.site for n in plan.notes} <= {"a-site", "d-site"}
    assert plan.scope == ("a-site", "d-site")
    assert dict(plan.versions) == {"a-site": 1, "d-site": 7}
    assert plan.fingerprint == fingerprint(h for h in haves if h.id in {"a-site", "d-site"})


def test_a_scoped_site_without_a_file_becomes_unmanaged_and_nothing_is_removed(
    fleet: Fleet,
) -> None:
    wants, haves = fleet
    gone = observed(site="gone-site", collaborators={TOM: "editor"}, transfer=pending())

    plan = build_plan(EXPERT, by_id(wants), by_id([*haves, gone]), scope=["gone-site"])

    assert plan.changes == ()
    assert [(n.site, n.kind.value) for n in plan.notes] == [("gone-site", "unmanaged")]
    assert "left alone" in plan.notes[0].message
    assert plan.fingerprint == fingerprint([gone])


def test_a_scoped_site_neither_in_files_nor_on_the_platform_is_nothing() -> None:
    plan = plan_of([(desired(), observed())], scope=["ghost-site"])

    assert (plan.changes, plan.notes, plan.scope) == ((), (), ("ghost-site",))


@pytest.mark.parametrize(
    ("scope", "unmanaged"),
    [(None, ["old-shop"]), (["a-site"], [])],
    ids=["whole repository", "scoped"],
)
def test_unmanaged_platform_sites_are_reported_never_touched(
    scope: list[str] | None, unmanaged: list[str], fleet: Fleet
) -> None:
    wants, haves = fleet

    plan = build_plan(EXPERT, by_id(wants), by_id(haves), scope=scope)

    assert [n.site for n in plan.notes_of(NoteKind.UNMANAGED)] == unmanaged
    assert "old-shop" not in {c.site for c in plan.changes}


# --- idempotency keys -----------------------------------------------------------------


def test_idempotency_keys_are_stable_per_run_plan_and_change(saved: Saved) -> None:
    plan, path = saved
    loaded = load_plan(path)
    first = plan.changes[0]

    key = idempotency_key("run-1", plan, 0, first)

    assert re.fullmatch(r"reconciler-[0-9a-f]{40}", key)
    assert idempotency_key("run-1", plan, 0, first) == key
    assert idempotency_key("run-1", loaded, 0, loaded.changes[0]) == key
    # A later run asks afresh: a refusal replayed forever would never converge.
    assert idempotency_key("run-2", plan, 0, first) != key


def test_idempotency_keys_differ_across_changes_and_plans(fleet: Fleet) -> None:
    wants, haves = fleet
    plan = build_plan(EXPERT, by_id(wants), by_id(haves))
    later = build_plan(
        EXPERT,
        by_id(wants),
        by_id(h.model_copy(update={"version": h.version + 1}) for h in haves),
    )

    keys = {
        idempotency_key("run-1", plan, index, change)
        for changes in plan.changes_by_site().values()
        for index, change in enumerate(changes)
    }
    assert len(keys) == len(plan.changes)
    assert later.changes == plan.changes
    first = plan.changes[0]
    assert idempotency_key("run-1", later, 0, first) != idempotency_key("run-1", plan, 0, first)
    assert idempotency_key("run-1", plan, 1, first) != idempotency_key("run-1", plan, 0, first)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"role": "owner"}, "'owner' is not a role (viewer, editor, admin)"),
        ({"email": None}, None),
    ],
)
def test_a_hand_edited_plan_with_impossible_details_is_refused_before_any_write(
    saved: Saved, tmp_path: Path, edit: dict[str, object], reason: str | None
) -> None:
    plan, _ = saved
    data = json.loads(plan.to_json())
    index = next(i for i, c in enumerate(data["changes"]) if "role" in c["details"])
    details = data["changes"][index]["details"]
    for key, value in edit.items():
        if value is None:
            del details[key]
        else:
            details[key] = value
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))

    with pytest.raises(PlanRefused) as refused:
        load_plan(edited)

    assert "is not a plan file written by `reconciler plan --out`" in refused.value.message
    assert (reason or "needs email in its details") in refused.value.message
