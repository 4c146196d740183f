"""Benchmark: `reconciler plan` of 3,000 sites with 600 handovers to preflight.

    .venv/bin/python benchmarks/bench_preflight.py [--count 3000] [--handovers 600] [--pairs 5]

Targets (issue 20): with every handover dry-run before the plan is shown (DESIGN.md
section 5, preflight), plan still takes at most 1.3x validate's wall time on the same
files (median of paired runs), and makes at most ceil(N/500) + ceil(D/500) +
ceil(T/500) + 2 requests (N sites listed, D changes to dry-run, T sent transfers): dry
runs go in batches of 500, not one request each. Measured as bench_plan.py measures
its 10,000 sites; the platform is `reconciler sandbox serve` in its own process.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import plan_against_validate
from measure import PAIRS, finish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3_000)
    parser.add_argument("--handovers", type=int, default=600)
    parser.add_argument("--pairs", type=int, default=PAIRS)
    options = parser.parse_args()
    # A third of the sites are being handed over, so that at least --handovers are.
    share = min(0.9, 1.5 * options.handovers / options.count)
    results = plan_against_validate(
        options.count, options.pairs, handovers=options.handovers, handing_over=share
    )
    finish(results)


if __name__ == "__main__":
    main()
