"""The handover lifecycle end to end (issue 12): the real CLI and HTTP client against a
sandbox served on 127.0.0.1 as a remote platform (a `platform:` block with a token)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Repo

from reconciler.model import Role
from reconciler.sandbox.seed import Seed, apply_seed
from reconciler.sandbox.server import ThreadedSandbox
from support.repo import EXPERT

ANNA = "anna@acme-bakery.example"
TOM = "tom@freelance.example"
FREDA = "freda@freelance.example"
MAX = "max@freelance.example"
MIA = "mia@glow-salon.example"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Repo]:
    """An empty repository in git, and a sandbox served over HTTP as its platform."""
    root = tmp_path / "repo"
    (root / "sites").mkdir(parents=True)
    repo = Repo(root, {"NO_COLOR": "1", "SANDBOX_TOKEN": "studio-token"})
    with ThreadedSandbox(tmp_path / "platform.db") as platform:
        repo.write(
            "reconciler.yaml",
            f"expert: {EXPERT}\nplatform:\n  url: {platform.url}\n  token_env: SANDBOX_TOKEN\n",
        )
        repo.platform = platform
        _git(root, "init", "--quiet")
        yield repo


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Sam", "-c", "user.email=sam@pixel.example", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def seed(repo: Repo, accounts: list[str], sites: list[dict[str, Any]]) -> None:
    assert repo.platform is not None
    people = [{"email": EXPERT, "kind": "expert", "token": "studio-token"}]
    people += [{"email": email, "kind": "customer"} for email in accounts]
    apply_seed(repo.platform.store, Seed.model_validate({"accounts": people, "sites": sites}))


def site(site_id: str, owner: str = EXPERT, **fields: Any) -> dict[str, Any]:
    return {"id": site_id, "name": site_id, "owner": owner, "billing_contact": owner,
            "package": "free", "collaborators": {}, **fields}  # fmt: skip


def commit(repo: Repo, message: str) -> None:
    _git(repo.root, "add", "-A")
    _git(repo.root, "commit", "--quiet", "-m", message)


def plan(repo: Repo, *args: str) -> tuple[int, dict[str, Any]]:
    result = repo.run("plan", "--format", "json", *args)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def actions(plan_json: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["site"], c["action"]) for c in plan_json["changes"]]


def notes(plan_json: dict[str, Any], kind: str) -> list[str]:
    return [n["message"] for n in plan_json["notes"] if n["kind"] == kind]


def posts(url: str) -> int:
    """How many POST requests the platform answered (dry runs included)."""
    with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=5) as answer:
        by_route: dict[str, int] = json.load(answer)["by_route"]
    return sum(n for route, n in by_route.items() if route.startswith("POST"))


def apply(repo: Repo) -> str:
    result = repo.run("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output
    return result.output


# --- order at the cap -------------------------------------------------------------------


def test_a_swap_on_a_full_free_site_applies_in_one_run(served: Repo) -> None:
    seed(served, [TOM, FREDA, MAX], [site("shop", collaborators={TOM: "editor", FREDA: "viewer"})])
    served.write(
        "sites/shop.yaml",
        f"id: shop\nowner: expert\ncollaborators:\n  {TOM}: editor\n  {MAX}: viewer\n",
    )
    commit(served, "Max replaces Freda")

    out = apply(served)

    assert "Apply: 2 done, 0 failed, 0 skipped." in out
    assert served.platform is not None
    assert served.platform.store.site("shop").collaborators == {TOM: Role.EDITOR, MAX: Role.VIEWER}
    assert plan(served, "--detailed-exitcode")[0] == 0


def test_premium_plus_one_more_collaborator_applies_in_one_run(served: Repo) -> None:
    seed(served, [TOM, FREDA, MAX], [site("shop", collaborators={TOM: "editor", FREDA: "viewer"})])
    served.write(
        "sites/shop.yaml",
        f"id: shop\nowner: expert\ncollaborators:\n  {TOM}: editor\n  {FREDA}: viewer\n"
        f"  {MAX}: viewer\npackage: premium\n",
    )
    commit(served, "Premium, and Max joins")

    out = apply(served)

    assert "Apply: 2 done, 0 failed, 0 skipped." in out
    assert out.index("package.purchase") < out.index("collaborator.add")
    assert served.platform is not None
    assert len(served.platform.store.site("shop").collaborators) == 3
    assert plan(served, "--detailed-exitcode")[0] == 0


# --- offboarding ------------------------------------------------------------------------


def test_offboarding_through_people_yaml(served: Repo) -> None:
    seed(
        served,
        [TOM, ANNA, MIA],
        [
            site("managed", collaborators={TOM: "editor"}),
            site("unmanaged", collaborators={TOM: "viewer"}),
            site("annas", ANNA, collaborators={EXPERT: "editor", TOM: "viewer"}),
        ],
    )
    served.write("people.yaml", f"tom: {{email: {TOM}, name: Tom, left: 2026-11-27}}\n")
    served.write(
        "sites/managed.yaml", "id: managed\nowner: expert\ncollaborators:\n  tom: editor\n"
    )
    served.write("sites/unmanaged.yaml", "id: unmanaged\nowner: expert\n")
    served.write(
        "sites/annas.yaml",
        f"id: annas\nowner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n  tom: viewer\n",
    )
    commit(served, "Tom left")

    assert served.run("validate").exit_code == 0
    _, planned = plan(served)

    assert actions(planned) == [("managed", "collaborator.remove")]
    assert notes(planned, "blocked") == [
        f"{TOM} left on 2026-11-27 (people.yaml); {ANNA} owns the site and must remove them "
        "(viewer)"
    ]
    assert notes(planned, "warning") == [
        f"{TOM} left on 2026-11-27 (people.yaml) but still has viewer access here: "
        "sites/unmanaged.yaml leaves `collaborators` out, so access is not managed; list the "
        f"collaborators to remove {TOM}"
    ]
    apply(served)
    assert served.platform is not None
    assert served.platform.store.site("managed").collaborators == {}


# --- handovers have a memory -------------------------------------------------------------


def sandbox(repo: Repo, *args: str) -> str:
    assert repo.platform is not None
    result = repo.run("sandbox", *args, "--db", str(repo.platform.db_path))
    assert result.exit_code == 0, result.output
    return result.output


def handover_to_mia(served: Repo) -> None:
    seed(served, [MIA], [site("glow-salon")])
    served.write("sites/glow-salon.yaml", f"id: glow-salon\nowner: {MIA}\ncollaborators: {{}}\n")
    commit(served, "Hand Glow Salon over to Mia")
    apply(served)


def ask_again(served: Repo) -> None:
    """What the plan says to do: name the ended transfer, in a reviewed commit."""
    assert served.platform is not None
    [ended] = [t for t in served.platform.store.transfers_of("glow-salon") if t.ended_at]
    served.write(
        "sites/glow-salon.yaml",
        f"id: glow-salon\nowner: {MIA}\ncollaborators: {{}}\nask_again_after: {ended.id}\n",
    )
    commit(served, "Ask Mia again")


@pytest.mark.parametrize(
    ("end", "said"),
    [
        (("transfer", "decline", "glow-salon"), f"{MIA} declined the handover on "),
        (("clock", "advance", "15"), f"the handover to {MIA} expired on "),
    ],
    ids=["declined", "expired"],
)
def test_an_ended_handover_is_not_sent_again_until_a_reviewed_change_asks(
    served: Repo, end: tuple[str, ...], said: str
) -> None:
    handover_to_mia(served)
    sandbox(served, *end)

    code, remembered = plan(served, "--detailed-exitcode")
    again = served.run("apply", "--yes")

    assert (code, actions(remembered)) == (0, [])
    [blocked] = notes(remembered, "blocked")
    assert blocked.startswith(said)
    assert "add `ask_again_after: tr_" in blocked
    assert "to sites/glow-salon.yaml in a reviewed pull request" in blocked
    assert again.exit_code == 0
    assert "No changes" in again.output
    assert served.platform is not None
    assert len(served.platform.store.transfers_of("glow-salon")) == 1  # not sent again

    ask_again(served)
    code, asked = plan(served, "--detailed-exitcode")
    apply(served)

    assert (code, actions(asked)) == (2, [("glow-salon", "transfer.start")])
    assert len(served.platform.store.transfers_of("glow-salon")) == 2
    assert notes(plan(served)[1], "waiting")[0].startswith(f"handover to {MIA} pending since ")


def test_a_pending_handover_counts_its_days_by_the_platforms_clock(served: Repo) -> None:
    handover_to_mia(served)

    early = notes(plan(served)[1], "waiting")
    sandbox(served, "clock", "advance", "12")
    _, late = plan(served)

    assert early[0].endswith("(14 days left)")
    assert notes(late, "waiting")[0].endswith(" days left)")
    [warning] = notes(late, "warning")
    assert warning.startswith(f"the transfer to {MIA} expires on ")
    assert f"remind {MIA} to accept it" in warning


# --- drift --------------------------------------------------------------------------------


def test_drift_the_client_starts_a_transfer_to_someone_else(served: Repo) -> None:
    seed(served, [ANNA, MIA], [site("annas", ANNA, collaborators={EXPERT: "editor"})])
    served.write(
        "sites/annas.yaml", f"id: annas\nowner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n"
    )
    commit(served, "Anna's site")
    assert plan(served, "--detailed-exitcode")[0] == 0
    assert served.platform is not None
    with served.platform.store.transaction() as tx:
        tx.start_transfer(ANNA, "annas", MIA, False, None)

    code, drifted = plan(served, "--detailed-exitcode")

    assert (code, actions(drifted)) == (2, [])
    [drift] = notes(drifted, "drift")
    assert drift.startswith(f"{ANNA} started a transfer to {MIA} on ")


def test_drift_the_client_removes_the_expert(served: Repo) -> None:
    seed(served, [ANNA], [site("annas", ANNA, collaborators={EXPERT: "editor"})])
    served.write(
        "sites/annas.yaml", f"id: annas\nowner: {ANNA}\ncollaborators:\n  {EXPERT}: editor\n"
    )
    commit(served, "Anna's site")
    assert served.platform is not None
    with served.platform.store.transaction() as tx:
        tx.delete_collaborator(ANNA, "annas", EXPERT, None)

    code, drifted = plan(served, "--detailed-exitcode")

    assert (code, actions(drifted)) == (2, [])
    assert notes(drifted, "drift") == [
        f"{EXPERT} no longer sees this site, though sites/annas.yaml lists it as a collaborator "
        f"of {ANNA}: {ANNA} removed {EXPERT}, or the id is wrong; ask {ANNA} to add {EXPERT} "
        "again, or correct the id"
    ]


# --- preflight ----------------------------------------------------------------------------


def test_a_client_without_an_account_is_blocked_at_plan_time_then_comes_back(
    served: Repo,
) -> None:
    seed(served, [], [site("glow-salon")])
    served.write("sites/glow-salon.yaml", f"id: glow-salon\nowner: {MIA}\ncollaborators: {{}}\n")
    commit(served, "Hand Glow Salon over to Mia")

    code, blocked = plan(served, "--detailed-exitcode")
    applied = served.run("apply", "--yes")

    assert (code, actions(blocked)) == (0, [])
    assert notes(blocked, "blocked") == [
        f"the platform refuses the handover to {MIA} (transfer.start): There is no account "
        f"for {MIA}: the client must sign up first, then start the transfer again. It is held "
        "back from this plan and comes back once the platform would accept it."
    ]
    assert applied.exit_code == 0, applied.output  # no failed apply, CI stays green
    assert "FAILED" not in applied.output

    sandbox(served, "account", "add", MIA)
    code, back = plan(served, "--detailed-exitcode")
    apply(served)

    assert (code, actions(back)) == (2, [("glow-salon", "transfer.start")])
    assert served.platform is not None
    assert served.platform.store.site("glow-salon").pending_transfer is not None


def test_preflight_asks_about_every_handover_in_one_batch(served: Repo) -> None:
    seed(served, [MIA, ANNA], [site("a"), site("b")])
    served.write("sites/a.yaml", f"id: a\nowner: {MIA}\ncollaborators: {{}}\n")
    served.write("sites/b.yaml", f"id: b\nowner: {ANNA}\ncollaborators: {{}}\npackage: free\n")
    assert served.platform is not None
    before = posts(served.platform.url)

    plan(served)

    assert posts(served.platform.url) - before == 1  # POST /v1/dry-runs, both in it
    assert served.platform.store.transfers_of("a") == []  # a dry run changes nothing


# --- import ------------------------------------------------------------------------------


def test_import_of_a_site_with_a_pending_transfer_then_an_empty_plan(served: Repo) -> None:
    seed(served, [MIA], [site("glow-salon")])
    assert served.platform is not None
    with served.platform.store.transaction() as tx:
        tx.start_transfer(EXPERT, "glow-salon", MIA, True, None)

    imported = served.run("import", "glow-salon")
    code, planned = plan(served, "--detailed-exitcode")

    assert imported.exit_code == 0, imported.output
    assert (
        f"owner: {MIA}  # handover pending since "
        in (served.root / "sites/glow-salon.yaml").read_text()
    )
    assert (code, actions(planned)) == (0, [])
    assert notes(planned, "waiting")[0].startswith(f"handover to {MIA} pending since ")


# --- finished handovers -----------------------------------------------------------------


def test_a_handover_in_which_the_expert_left_is_info_once_accepted(served: Repo) -> None:
    handover_to_mia(served)
    sandbox(served, "transfer", "accept", "glow-salon")

    code, finished = plan(served, "--detailed-exitcode")

    assert (code, actions(finished)) == (0, [])
    assert notes(finished, "warning") == []
    [info] = notes(finished, "info")
    assert info.startswith(f"handed over to {MIA} on ")
    assert info.endswith("; the expert no longer has access")


# --- history -----------------------------------------------------------------------------


def test_history_shows_how_each_handover_ended_and_which_run_applied_it(served: Repo) -> None:
    handover_to_mia(served)
    sandbox(served, "transfer", "decline", "glow-salon")
    ask_again(served)
    apply(served)
    sandbox(served, "transfer", "accept", "glow-salon")

    result = served.run("history", "glow-salon")

    assert result.exit_code == 0, result.output
    text = result.output
    assert "Applied (git notes, refs/notes/reconciler):" in text
    assert text.count("done    glow-salon: transfer.start HANDOVER to mia@glow-salon.example") == 2
    transfers = text.split("Transfers on the platform:\n")[1].splitlines()
    assert len(transfers) == 2
    assert f"{EXPERT} -> {MIA} (the former owner leaves): declined on " in transfers[0]
    assert f"{EXPERT} -> {MIA} (the former owner leaves): accepted on " in transfers[1]
