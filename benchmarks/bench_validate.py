"""Benchmark: `reconciler validate` on 10,000 site files, against its floor.

    .venv/bin/python benchmarks/bench_validate.py [--count 10000] [--pairs 5] [--keep DIR]

Targets: validate takes at most 1.3x the wall time of its floor (issue 20): a process
that reads the same files and composes them with ruamel.yaml's C loader, interpreter
start included (``benchmarks/floor.py``), the median of paired runs (floor, then
validate); and, as before (issue 2), under 3 s and under 300 MB of peak memory. Both
are subprocesses, as a user or CI runs them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_repository
from measure import PAIRS, finish, paired, reconciler, run, show_command, target

FLOOR = Path(__file__).resolve().with_name("floor.py")
TARGET_RATIO = 1.3
TARGET_SECONDS = 3.0
TARGET_PEAK_MB = 300.0


def benchmark(root: Path, count: int, pairs: int) -> list[bool]:
    start = time.perf_counter()
    generate_repository(root, count)
    print(f"generated {count} site files in {time.perf_counter() - start:.1f} s ({root})")
    validate = reconciler("--root", root, "validate")
    floor = [sys.executable, str(FLOOR), str(root)]
    show_command("validate", validate)
    show_command("floor", floor)
    run(validate)  # writes the bytecode caches
    peaks: list[int] = []

    def timed_validate() -> float:
        done = run(validate)
        peaks.append(done.peak_kb)
        return done.seconds

    times = paired("floor", lambda: run(floor).seconds, "validate", timed_validate, pairs)
    median = statistics.median(times.b)
    peak_mb = max(peaks) / 1024
    return [
        target(
            f"validate / floor, {count} sites",
            f"{times.ratio:.2f}x",
            f"<= {TARGET_RATIO}x",
            times.ratio <= TARGET_RATIO,
        ),
        target(
            f"validate, {count} sites",
            f"median {median:.2f} s",
            f"< {TARGET_SECONDS:.0f} s",
            median < TARGET_SECONDS,
        ),
        target(
            f"validate peak RSS, {count} sites",
            f"{peak_mb:.0f} MB",
            f"< {TARGET_PEAK_MB:.0f} MB",
            peak_mb < TARGET_PEAK_MB,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        results = benchmark(args.keep, args.count, args.pairs)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
            results = benchmark(Path(tmp), args.count, args.pairs)
    finish(results)


if __name__ == "__main__":
    main()
