"""Benchmark: `reconciler validate` on a generated repository of 10,000 site files.

A plain script, not a test: timings on shared CI machines are too noisy to gate on.

    .venv/bin/python benchmarks/bench_validate.py [--count 10000] [--repeat 3] [--keep DIR]

Runs the real command as a subprocess (what a user or CI runs, interpreter start-up and
imports included) and reports the wall time of each run and the peak resident memory
of the child processes. Exits 1 when the best run misses a target.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_repository

TARGET_SECONDS = 3.0
TARGET_PEAK_MB = 300.0


def reconciler_command() -> list[str]:
    script = Path(sys.executable).with_name("reconciler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def run_validate(root: Path) -> float:
    start = time.perf_counter()
    completed = subprocess.run(
        [*reconciler_command(), "--root", str(root), "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(
            f"validate failed with exit code {completed.returncode}:\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    print(f"  {completed.stdout.strip().splitlines()[-1]}: {elapsed:.2f} s")
    return elapsed


def benchmark(root: Path, count: int, repeat: int) -> bool:
    start = time.perf_counter()
    generate_repository(root, count, seed_file=True)
    print(f"generated {count} site files in {time.perf_counter() - start:.1f} s ({root})")
    times = [run_validate(root) for _ in range(repeat)]
    # ru_maxrss is in kilobytes on Linux: the largest of the waited-for children.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    best = min(times)
    time_ok, memory_ok = best < TARGET_SECONDS, peak_mb < TARGET_PEAK_MB
    print(
        f"reconciler validate, {count} sites: best {best:.2f} s of {repeat} "
        f"(target < {TARGET_SECONDS:.0f} s: {'ok' if time_ok else 'MISSED'}), "
        f"peak RSS {peak_mb:.0f} MB (target < {TARGET_PEAK_MB:.0f} MB: "
        f"{'ok' if memory_ok else 'MISSED'})"
    )
    return time_ok and memory_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        ok = benchmark(args.keep, args.count, args.repeat)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
            ok = benchmark(Path(tmp), args.count, args.repeat)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
