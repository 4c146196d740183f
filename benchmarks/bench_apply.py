"""Benchmark: `reconciler apply` of 1,000 writes against a rate-limited platform.

    .venv/bin/python benchmarks/bench_apply.py [--writes 1000] [--rate 50]

Target (issue 4): at a rate limit of 50 requests per second, apply reaches at least 90%
of that limit. The platform is `reconciler sandbox serve --faults rate_limit=50` in its
own process; every site needs one write (a collaborator added). The rate is the number
of writes divided by the wall time of the whole command, start-up and planning
included, so it is a lower bound of the rate during the writes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from platform_process import reconciler_command, sandbox_process, stats

EXPERT = "studio@pixel.example"
TOKEN = "studio-token"
TARGET_SHARE = 0.9


def write_repository(root: Path, count: int) -> None:
    sites = root / "sites"
    sites.mkdir(parents=True)
    for index in range(count):
        site_id = f"site-{index:05d}"
        (sites / f"{site_id}.yaml").write_text(
            f"id: {site_id}\nowner: expert\ncollaborators:\n  tom@freelance.example: viewer\n"
        )
    seed = [
        "accounts:",
        f"  - {{email: {EXPERT}, kind: expert, token: {TOKEN}}}",
        "  - {email: tom@freelance.example, kind: customer}",
        "sites:",
    ]
    seed += [
        f"  - {{id: site-{i:05d}, name: Site {i}, owner: {EXPERT}, billing_contact: {EXPERT}, "
        "package: free, collaborators: {}}"
        for i in range(count)
    ]
    (root / "sandbox.seed.yaml").write_text("\n".join(seed) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        write_repository(root, options.writes)
        db = Path(folder) / "platform.db"
        command = reconciler_command()
        seed = [*command, "sandbox", "seed", str(root / "sandbox.seed.yaml"), "--db", str(db)]
        subprocess.run(seed, check=True, capture_output=True)
        with sandbox_process(db, faults=f"rate_limit={options.rate}") as url:
            (root / "reconciler.yaml").write_text(
                f"expert: {EXPERT}\nplatform:\n  url: {url}\n  token_env: BENCH_TOKEN\n"
                f"policy:\n  max_removals: 0\n"
            )
            env = {**os.environ, "BENCH_TOKEN": TOKEN}
            args = [
                "--root",
                str(root),
                "apply",
                "--yes",
                "--parallelism",
                str(options.parallelism),
            ]
            start = time.perf_counter()
            done = subprocess.run([*command, *args], capture_output=True, text=True, env=env)
            elapsed = time.perf_counter() - start
            counts = stats(url)
        if done.returncode != 0:
            sys.exit(
                f"apply failed ({done.returncode}):\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
            )
        print(done.stdout.strip().splitlines()[-1])
        rate = options.writes / elapsed
        share = rate / options.rate
        verdict = "ok" if share >= TARGET_SHARE else "MISSED"
        print(
            f"{options.writes} writes in {elapsed:.1f} s: {rate:.1f} writes/s, {share:.0%} of "
            f"the {options.rate}/s limit (target >= {TARGET_SHARE:.0%}: {verdict}); "
            f"requests by status: {counts['by_status']}"
        )
    sys.exit(0 if share >= TARGET_SHARE else 1)


if __name__ == "__main__":
    main()
