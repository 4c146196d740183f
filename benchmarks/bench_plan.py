"""Benchmark: `reconciler plan` against `reconciler validate` on 10,000 site files.

    .venv/bin/python benchmarks/bench_plan.py [--count 10000] [--pairs 5]

Targets (issue 20): plan takes at most 1.3x validate's wall time on the same files (the
median of paired runs, validate then plan), and makes at most
ceil(N/500) + ceil(D/500) + ceil(T/500) + 2 requests: N sites listed, D changes to
dry-run (transfer.start and package.purchase in the plan), T sent transfers listed,
and two more (the identity check, and one spare). Both commands run as subprocesses,
start-up included; the platform is `reconciler sandbox serve` in its own process (a real
platform is another machine), seeded with the generator's matching state (a tenth of
the sites drifted, some handovers pending), its requests counted by /sandbox/stats.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_repository, seed_database
from measure import PAIRS, finish, pages, paired, reconciler, run, seconds, show_command, target
from platform_process import platform_requests, serving_repository, stats

TARGET_RATIO = 1.3
DRY_RUN_ACTIONS = ("transfer.start", "package.purchase")


def plan_against_validate(
    count: int, pairs: int, *, handovers: int | None = None, handing_over: float = 0.12
) -> list[bool]:
    """Generate ``count`` sites, then measure plan against validate and plan's requests."""
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as folder:
        root = Path(folder) / "repo"
        generated = generate_repository(root, count, handovers=handovers, handing_over=handing_over)
        db = Path(folder) / "platform.db"
        seed_database(db, generated)
        validate = reconciler("--root", root, "validate")
        plan = reconciler("--root", root, "plan", "--force")
        with serving_repository(root, db, generated.expert_token) as (url, env):
            show_command("validate", validate)
            show_command("plan", plan)
            run(plan, env)  # warm: the sandbox's first answers pay for its lazy imports
            before = stats(url)
            measured = run(plan, env)
            requests = platform_requests(before, stats(url))
            print(f"  one plan's requests by route: {requests} ({measured.seconds:.2f} s)")
            answer = run([*plan, "--format", "json"], env).stdout
            sent = _sent_transfers(url, generated.expert_token)
            times = paired("validate", seconds(validate), "plan", seconds(plan, env), pairs)
    dry_runs = _dry_run_changes(json.loads(answer))
    listed = requests.get("GET /v1/sites", 0)
    visible = _visible_sites(generated)
    allowed = pages(visible) + pages(dry_runs) + pages(sent) + 2
    total = sum(requests.values())
    return [
        target(
            f"plan / validate, {count} sites",
            f"{times.ratio:.2f}x",
            f"<= {TARGET_RATIO}x",
            times.ratio <= TARGET_RATIO,
        ),
        target(
            f"plan requests, N={visible} listed, D={dry_runs} dry-run changes, T={sent} sent",
            f"{total} ({listed} list pages)",
            f"<= ceil(N/500)+ceil(D/500)+ceil(T/500)+2 = {allowed}",
            total <= allowed,
        ),
    ]


def _dry_run_changes(plan: dict[str, Any]) -> int:
    """D: the changes preflight dry-runs (DESIGN.md section 5), from the plan shown: each
    transfer.start and package.purchase with no change before it on the same site that
    alters what the platform checks, and each one the platform refused (held back)."""
    seen: set[str] = set()
    count = 0
    for change in plan["changes"]:
        if change["action"] in DRY_RUN_ACTIONS and change["site"] not in seen:
            count += 1
        if change["action"] in (*DRY_RUN_ACTIONS, "transfer.cancel"):
            seen.add(change["site"])
    held = sum(1 for note in plan["notes"] if note.get("code") == "preflight.refused")
    return count + held


def _sent_transfers(url: str, token: str) -> int:
    from reconciler.platform.client import PlatformClient

    with PlatformClient(url, token) as client:
        return sum(1 for _ in client.iter_transfers())


def _visible_sites(generated: object) -> int:
    """Sites the expert owns or collaborates on, per the seed."""
    expert = generated.expert  # type: ignore[attr-defined]
    return sum(
        1
        for site in generated.sites  # type: ignore[attr-defined]
        if site.observed_owner == expert or expert in site.observed_collaborators
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=PAIRS)
    options = parser.parse_args()
    finish(plan_against_validate(options.count, options.pairs))


if __name__ == "__main__":
    main()
