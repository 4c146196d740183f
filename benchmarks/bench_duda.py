"""Benchmark: plan and apply of 1,000 Duda sites against the fake of Duda's API.

    .venv/bin/python benchmarks/bench_duda.py [--sites 1000] [--addresses 300]
        [--grants 500] [--changes 500] [--creations 30] [--rate 8]

The repository names 300 addresses (people.yaml), 500 of whose grants exist on Duda as
viewers; the site files make 500 of them editors (grant changes to existing accounts).
The fake (tests/duda/fake, Duda's limits on the wall clock: 10 a second, Create Account
60 a minute) serves on 127.0.0.1 in this process; the reconciler runs as its own process,
paced at ``--rate``. Targets (the issue's Done when):

- plan's requests within 1% of ceil(sites/100) + addresses + grants;
- apply's requests within 1% of the writes plus one re-read each (apply plans first: its
  plan's requests, the same as plan's, are not counted as the writes');
- the write phase (first write request to last, from the fake's counters polled every
  50 ms) at >= 90% of the configured rate;
- account creation apart: ``--creations`` new addresses, each a CUSTOMER account made
  on first grant, at >= 90% of Duda's 60 a minute, with no creation answered 429.

The plan afterwards has no changes. Each figure is printed with the command that made it.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))

from duda.fake import DudaFake  # noqa: E402 - after the path to tests/
from measure import ENVIRONMENT  # noqa: E402
from platform_process import reconciler_command  # noqa: E402

EXPERT = "studio@pixel.example"
TARGET_SHARE = 0.9
WITHIN = 0.01
WRITES = ("POST /accounts/{account}/sites/{site}/permissions",)
CREATE = "POST /accounts/create"
EDITOR = ["EDIT", "LIMITED_EDITING", "PUBLISH", "REPUBLISH", "SEO", "BLOG", "BACKUPS"]


class Phase:
    """Polls the fake's counters: when the first and the last request of ``routes``
    came, and how many requests of any route came between them."""

    def __init__(self, fake: DudaFake, routes: tuple[str, ...]) -> None:
        self.fake = fake
        self.routes = routes
        self.first: float | None = None
        self.last: float | None = None
        self.total_at_first = 0
        self.total_at_last = 0
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Phase:
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
        stats = self.fake.stats()
        done = sum(stats.count(route) for route in self.routes)
        now = time.perf_counter()
        if done and self.first is None:
            self.first, self.total_at_first = now, stats.total
        if done > self._seen:
            self._seen, self.last, self.total_at_last = done, now, stats.total

    def rate(self, count_all: bool) -> float:
        """Requests a second between the first and the last request of the routes."""
        assert self.first is not None
        assert self.last is not None
        seconds = max(self.last - self.first, 1e-9)
        counted = self.total_at_last - self.total_at_first if count_all else self._seen - 1
        return counted / seconds


def address(index: int) -> str:
    return f"person-{index:03d}@clients.example"


def write_repository(
    root: Path, url: str, options: argparse.Namespace
) -> dict[str, dict[str, str]]:
    """The files, and the grants (site -> address -> role) they ask for."""
    (root / "sites").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"expert: {EXPERT}\nplatform:\n  kind: duda\n  url: {url}\n  rate_limit: {options.rate}\n"
        "policy:\n  max_removals: 0\n"
    )
    people = [f"p{n}: {{email: {address(n)}}}" for n in range(options.addresses)]
    (root / "people.yaml").write_text("\n".join(people) + "\n")
    wanted: dict[str, dict[str, str]] = {f"site-{n:04d}": {} for n in range(options.sites)}
    for grant in range(options.grants):  # existing grants, spread over sites and people
        site = f"site-{(grant * 7) % options.sites:04d}"
        wanted[site][address(grant % options.addresses)] = (
            "editor" if grant < options.changes else "viewer"
        )
    for site, collaborators in wanted.items():
        lines = [f"id: {site}", "owner: expert", "collaborators:"]
        lines += [f"  {email}: {role}" for email, role in sorted(collaborators.items())]
        if not collaborators:
            lines[-1] = "collaborators: {}"
        (root / "sites" / f"{site}.yaml").write_text("\n".join(lines) + "\n")
    return wanted


def seed(fake: DudaFake, options: argparse.Namespace) -> None:
    fake.state.add_plan(1, "FREE")
    fake.state.add_sites(f"site-{n:04d}" for n in range(options.sites))
    for grant in range(options.grants):
        site = f"site-{(grant * 7) % options.sites:04d}"
        fake.state.grant(address(grant % options.addresses), site, ["STATS_TAB"])


def run(root: Path, fake: DudaFake, *args: str) -> tuple[str, float]:
    command = [*reconciler_command(), "--root", str(root), *args]
    env = {**ENVIRONMENT, **fake.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        sys.exit(
            f"{' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done.stdout, elapsed


def check(name: str, ok: bool, figure: str) -> bool:
    print(f"  {'ok  ' if ok else 'MISS'} {name}: {figure}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--addresses", type=int, default=300)
    parser.add_argument("--grants", type=int, default=500)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--creations", type=int, default=30)
    parser.add_argument("--rate", type=float, default=8)
    options = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder, DudaFake() as fake:
        root = Path(folder) / "repo"
        seed(fake, options)
        write_repository(root, fake.url, options)
        print(
            f"$ reconciler plan   # {options.sites} sites, {options.addresses} addresses, "
            f"{options.grants} grants, at {options.rate:g} a second"
        )
        _, seconds = run(root, fake, "plan", "--detailed-exitcode")
        plan_requests = fake.stats().total
        expected = math.ceil(options.sites / 100) + options.addresses + options.grants
        print(f"  {plan_requests} requests in {seconds:.1f} s")
        results.append(
            check(
                "plan requests within 1% of ceil(sites/100) + addresses + grants",
                abs(plan_requests - expected) <= WITHIN * expected,
                f"{plan_requests} vs {expected}",
            )
        )
        fake.reset_stats()

        print(f"$ reconciler apply --yes   # {options.changes} grant changes")
        with Phase(fake, WRITES) as phase:
            out, seconds = run(root, fake, "apply", "--yes")
        stats = fake.stats()
        writes = sum(stats.count(route) for route in WRITES)
        apply_requests = stats.total - plan_requests  # its own plan reads as plan does
        expected = 2 * options.changes
        print(
            f"  {stats.total} requests in {seconds:.1f} s: {plan_requests} to plan, "
            f"{apply_requests} for {writes} writes; {stats.rate_limited} answered 429"
        )
        results.append(check("writes made", writes == options.changes, f"{writes}"))
        results.append(
            check(
                "apply requests within 1% of the writes plus one re-read each",
                abs(apply_requests - expected) <= WITHIN * expected,
                f"{apply_requests} vs {expected}",
            )
        )
        rate = phase.rate(count_all=True)
        results.append(
            check(
                f"write phase at >= 90% of {options.rate:g} a second",
                rate >= TARGET_SHARE * options.rate,
                f"{rate:.2f} a second",
            )
        )
        results.append(check("empty grants sent", stats.empty_grants == 0, f"{stats.empty_grants}"))

        fake.reset_stats()
        out, _ = run(root, fake, "plan", "--detailed-exitcode")
        results.append(
            check(
                "plan afterwards has no changes",
                "No changes" in out,
                out.strip().splitlines()[-1] if out.strip() else "(no output)",
            )
        )

        new = [f"new-{n:03d}@clients.example" for n in range(options.creations)]
        for index, email in enumerate(new):
            site = root / "sites" / f"site-{(index * 13 + 1) % options.sites:04d}.yaml"
            text = site.read_text().replace("collaborators: {}", "collaborators:")
            site.write_text(text + f"  {email}: viewer\n")
        people = (root / "people.yaml").read_text()
        (root / "people.yaml").write_text(
            people + "".join(f"n{n}: {{email: {e}}}\n" for n, e in enumerate(new))
        )
        fake.reset_stats()
        print(f"$ reconciler apply --yes   # {options.creations} new client accounts")
        with Phase(fake, (CREATE,)) as creating:
            run(root, fake, "apply", "--yes")
        stats = fake.stats()
        made = stats.count(CREATE, 204)
        per_minute = creating.rate(count_all=False) * 60
        print(f"  {made} accounts made, {stats.count(CREATE, 429)} creations answered 429")
        results.append(check("accounts made", made == options.creations, f"{made}"))
        results.append(
            check(
                "creation at >= 90% of 60 a minute, none answered 429",
                per_minute >= TARGET_SHARE * 60 and stats.count(CREATE, 429) == 0,
                f"{per_minute:.1f} a minute",
            )
        )
    print("every target holds" if all(results) else "targets missed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
