"""Benchmark: `reconciler apply` of 1,000 writes against a rate-limited platform.

    .venv/bin/python benchmarks/bench_apply.py [--writes 1000] [--rate 50] [--repeat 5]
    .venv/bin/python benchmarks/bench_apply.py --rate 20 --parallelism 16 \
        --min-write-share 0.95 --max-429-share 0.02

Targets: at a rate limit of 50 requests per second and the default parallelism, apply
reaches at least 90% of that limit (issue 4) with at most 1% of its requests answered
429 (issue 11); at 20 per second with 16 workers, at least 95% of the limit over the
write phase and at most 2% answered 429 (issue 11). The platform is `reconciler sandbox
serve --faults rate_limit=N` in its own process; every site needs one write (a
collaborator added). The command rate is the number of writes divided by the wall time
of the whole command, start-up and planning included; the write-phase rate divides
them by the time from the first write request to the last, as the platform's counters
(polled every 50 ms) saw them. 429s are counted over all of apply's requests. Each of
``--repeat`` runs starts from a freshly seeded platform; the targets hold for the
medians.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ENVIRONMENT
from platform_process import reconciler_command, sandbox_process, stats

EXPERT = "studio@pixel.example"
TOKEN = "studio-token"
TARGET_SHARE = 0.9
WRITE_ROUTE = "PUT /v1/sites/{site_id}/collaborators/{email}"
STATS_ROUTE = "GET /sandbox/stats"


class WritePhase:
    """Polls the platform's counters: when the first and the last write request came."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.first: float | None = None
        self.last: float | None = None
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> WritePhase:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def _sample(self) -> None:
        writes = stats(self.url)["by_route"].get(WRITE_ROUTE, 0)
        now = time.perf_counter()
        if writes and self.first is None:
            self.first = now
        if writes > self._seen:
            self._seen, self.last = writes, now

    @property
    def seconds(self) -> float:
        assert self.first is not None
        assert self.last is not None
        return max(self.last - self.first, 1e-9)


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


def once(options: argparse.Namespace) -> tuple[float, float, float]:
    """One apply on a fresh platform: the command's share of the limit, the write
    phase's share, and the share of requests answered 429."""
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
            env = {**ENVIRONMENT, "BENCH_TOKEN": TOKEN}
            args = [
                "--root",
                str(root),
                "apply",
                "--yes",
                "--parallelism",
                str(options.parallelism),
            ]
            start = time.perf_counter()
            with WritePhase(url) as phase:
                done = subprocess.run([*command, *args], capture_output=True, text=True, env=env)
            elapsed = time.perf_counter() - start
            counts = stats(url)
        if done.returncode != 0:
            sys.exit(
                f"apply failed ({done.returncode}):\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
            )
        rate = options.writes / elapsed
        share = rate / options.rate
        write_rate = (options.writes - 1) / phase.seconds
        write_share = write_rate / options.rate
        requests = counts["total"] - counts["by_route"].get(STATS_ROUTE, 0)
        limited = counts["by_status"].get("429", 0)
        limited_share = limited / requests
        print(
            f"  {done.stdout.strip().splitlines()[-1]}: {elapsed:.1f} s in all, {rate:.1f} "
            f"writes/s ({share:.0%} of the limit); write phase {phase.seconds:.1f} s, "
            f"{write_rate:.1f} writes/s ({write_share:.1%}); {limited} of {requests} "
            f"requests answered 429 ({limited_share:.2%})"
        )
        return share, write_share, limited_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--min-write-share", type=float, default=0.0)
    parser.add_argument("--max-429-share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(
        f"command: {shlex.join(reconciler_command())} --root REPO apply --yes --parallelism "
        f"{options.parallelism}, {options.writes} writes, platform at rate_limit={options.rate}"
    )
    runs = [once(options) for _ in range(options.repeat)]
    share, write_share, limited_share = (statistics.median(r[i] for r in runs) for i in range(3))
    checks = {
        f"command >= {TARGET_SHARE:.0%} of the limit": share >= TARGET_SHARE,
        f"write phase >= {options.min_write_share:.0%}": write_share >= options.min_write_share,
        f"429s <= {options.max_429_share:.0%}": limited_share <= options.max_429_share,
    }
    verdict = ", ".join(f"{name}: {'ok' if met else 'MISSED'}" for name, met in checks.items())
    print(
        f"medians of {options.repeat} runs: whole command {share:.1%} of the limit, write "
        f"phase {write_share:.1%}, {limited_share:.2%} answered 429. {verdict}"
    )
    print("all targets met" if all(checks.values()) else "TARGETS MISSED")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
