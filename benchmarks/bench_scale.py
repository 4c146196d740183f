"""Benchmark: a straight line from 1,000 to 100,000 sites, for validate and plan.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,10000,100000] [--rounds 5]

Targets (issue 20):

- the marginal cost of a site from 10,000 to 100,000 sites is at most 1.15x its cost
  from 1,000 to 10,000, for validate and for plan: (t(100k) - t(10k)) / 90,000 against
  (t(10k) - t(1k)) / 9,000, in wall time;
- peak resident memory at 100,000 sites: validate at most 3 KB a site, plan at most 5 KB
  (the command's own peak divided by the sites).

Each round runs every size back to back (1k, 10k, 100k), so a busy moment of a shared
machine weighs on one round, not on one size; the target is judged on the median of
the rounds' ratios. Commands are subprocesses, start-up included; plan's platform is
`reconciler sandbox serve` in its own process, one per size, seeded with the
generator's matching state. 100,000 sites take minutes of CPU a round: on a shared
machine, run it when the others are quiet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_repository, seed_database
from measure import finish, reconciler, run, show_command, target

TARGET_MARGINAL = 1.15
TARGET_KB_A_SITE = {"validate": 3.0, "plan": 5.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commands", default="validate,plan")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    commands = options.commands.split(",")
    assert len(sizes) == 3, "three sizes: small, middle, large"
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder, ExitStack() as stack:
        from platform_process import serving_repository

        runs: dict[tuple[str, int], tuple[list[str], dict[str, str]]] = {}
        for size in sizes:
            root = Path(folder) / f"repo-{size}"
            generated = generate_repository(root, size)
            db = Path(folder) / f"platform-{size}.db"
            seed_database(db, generated)
            _, env = stack.enter_context(serving_repository(root, db, generated.expert_token))
            runs["validate", size] = (reconciler("--root", root, "validate"), {})
            runs["plan", size] = (reconciler("--root", root, "plan", "--force"), env)
            print(f"{size} sites generated and served")
        for (name, size), (command, env) in runs.items():
            if name in commands:
                show_command(f"{name} at {size}", command)
                run(command, env)  # warm: bytecode caches, the sandbox's lazy imports
        results = []
        for name in commands:
            results += measure(name, sizes, runs, options.rounds)
    finish(results)


def measure(
    name: str,
    sizes: list[int],
    runs: dict[tuple[str, int], tuple[list[str], dict[str, str]]],
    rounds: int,
) -> list[bool]:
    small, middle, large = sizes
    ratios, peaks = [], []
    for index in range(rounds):
        times = {}
        for size in sizes:
            command, env = runs[name, size]
            done = run(command, env)
            times[size] = done.seconds
            if size == large:
                peaks.append(done.peak_kb)
        first = (times[middle] - times[small]) / (middle - small) * 1e6
        second = (times[large] - times[middle]) / (large - middle) * 1e6
        ratios.append(second / first)
        print(
            f"  {name} round {index + 1}: "
            + ", ".join(f"{size}: {seconds:.2f} s" for size, seconds in times.items())
            + f"; {first:.0f} us a site {small}->{middle}, {second:.0f} us a site "
            f"{middle}->{large}: {second / first:.2f}x"
        )
    ratio = statistics.median(ratios)
    kb_a_site = max(peaks) / large * 1.024  # ru_maxrss is in KiB; a KB is 1,000 bytes
    return [
        target(
            f"{name} marginal cost a site {middle}->{large} / {small}->{middle}",
            f"median {ratio:.2f}x of {rounds} rounds",
            f"<= {TARGET_MARGINAL}x",
            ratio <= TARGET_MARGINAL,
        ),
        target(
            f"{name} peak RSS at {large} sites",
            f"{kb_a_site:.2f} KB a site ({max(peaks) / 1024:.0f} MiB)",
            f"<= {TARGET_KB_A_SITE[name]:.0f} KB a site",
            kb_a_site <= TARGET_KB_A_SITE[name],
        ),
    ]


if __name__ == "__main__":
    main()
