"""Benchmark: start-up of the commands a user runs most, on the example repository.

    .venv/bin/python benchmarks/bench_startup.py [--runs 10]

Targets (issue 11, item 3):

(a) ``python -X importtime -m reconciler validate`` imports none of the modules that
    only a platform needs: the sandbox, FastAPI, uvicorn, starlette, requests, git.
    ``--help``, ``fmt --check`` and ``schema`` are checked the same way.
(b) ``plan`` with the embedded sandbox (no ``platform:`` block, so the command starts
    the sandbox's child process itself) takes at most 2x ``validate``: the median of
    ``--runs`` paired runs (validate, then plan, on the same copy), start-up included.

(c) ``validate`` of the example's 5 site files takes at most 3x ``python -c "import
    pydantic"`` (issue 20), cold: each a new interpreter (bytecode caches written and
    used, as for an installed package); the median of ``--runs`` paired runs.

Each run is a subprocess on a fresh copy of the repository's example (reconciler.yaml,
people.yaml, sites/, sandbox.seed.yaml), whose embedded sandbox database is created by
one unmeasured plan first, as on any clone after its first command. Bytecode caches
are written and used, as for an installed package, even when the calling environment
sets PYTHONDONTWRITEBYTECODE (compiling every module on every run would time the
compiler). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = ("reconciler.yaml", "people.yaml", "sandbox.seed.yaml")
FORBIDDEN = ("reconciler.sandbox", "fastapi", "uvicorn", "starlette", "requests", "git")
CHECKED_COMMANDS = (("--help",), ("validate",), ("fmt", "--check"), ("schema",))
TARGET_RATIO = 2.0
TARGET_PYDANTIC_RATIO = 3.0


def copy_example(folder: Path) -> Path:
    root = folder / "repo"
    root.mkdir()
    for name in EXAMPLE_FILES:
        shutil.copy(EXAMPLE / name, root / name)
    shutil.copytree(EXAMPLE / "sites", root / "sites")
    return root


ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}


def command(root: Path, *args: str, python_options: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, *python_options, "-m", "reconciler", "--root", str(root), *args]


def imported_modules(root: Path, *args: str) -> list[str]:
    """Every module ``reconciler ARGS`` imports, from ``-X importtime``'s report."""
    done = subprocess.run(
        command(root, *args, python_options=("-X", "importtime")),
        capture_output=True,
        text=True,
        check=False,
        env=ENVIRONMENT,
    )
    modules = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.append(name)
    return modules


def forbidden_in(modules: list[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )


def timed(root: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command(root, *args), capture_output=True, text=True, check=False, env=ENVIRONMENT
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):  # plan exits 0 with --detailed-exitcode unset
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def check_imports(root: Path) -> bool:
    ok = True
    for args in CHECKED_COMMANDS:
        modules = imported_modules(root, *args)
        bad = forbidden_in(modules)
        label = " ".join(args)
        verdict = "ok" if not bad else "MISSED: " + ", ".join(bad[:8])
        print(f"(a) {label:<12} {len(modules):4d} modules, forbidden: {len(bad)}  {verdict}")
        ok = ok and not bad
    return ok


def check_plan_ratio(root: Path, runs: int) -> bool:
    timed(root, "validate")  # writes the bytecode caches
    timed(root, "plan")  # creates and seeds the embedded sandbox's database
    validates, plans, ratios = [], [], []
    for _ in range(runs):
        validate = timed(root, "validate")
        plan = timed(root, "plan")
        validates.append(validate)
        plans.append(plan)
        ratios.append(plan / validate)
    validate_median = statistics.median(validates)
    plan_median = statistics.median(plans)
    ratio = statistics.median(ratios)
    ok = ratio <= TARGET_RATIO
    print(
        f"(b) validate median {validate_median:.3f} s, plan (embedded sandbox) median "
        f"{plan_median:.3f} s over {runs} paired runs"
    )
    print(
        f"    plan / validate: median {ratio:.2f}x (min {min(ratios):.2f}x, max "
        f"{max(ratios):.2f}x); target <= {TARGET_RATIO:.1f}x  {'ok' if ok else 'MISSED'}"
    )
    return ok


def check_against_pydantic(root: Path, runs: int) -> bool:
    validate = command(root, "validate")
    pydantic = [sys.executable, "-c", "import pydantic"]
    print(f"(c) validate: {shlex.join(validate)}")
    print(f"    against:  {shlex.join(pydantic)}")
    timed(root, "validate")  # writes the bytecode caches
    ratios = []
    for index in range(runs):
        start = time.perf_counter()
        subprocess.run(pydantic, check=True, env=ENVIRONMENT)
        imported = time.perf_counter() - start
        validated = timed(root, "validate")
        ratios.append(validated / imported)
        print(f"    pair {index + 1}: import pydantic {imported:.3f} s, validate "
              f"{validated:.3f} s, {ratios[-1]:.2f}x")  # fmt: skip
    ratio = statistics.median(ratios)
    ok = ratio <= TARGET_PYDANTIC_RATIO
    print(
        f"    validate of 5 files / import pydantic: median {ratio:.2f}x; target <= "
        f"{TARGET_PYDANTIC_RATIO:.1f}x  {'ok' if ok else 'MISSED'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = copy_example(Path(folder))
        imports_ok = check_imports(root)
        ratio_ok = check_plan_ratio(root, options.runs)
        pydantic_ok = check_against_pydantic(root, options.runs)
    ok = imports_ok and ratio_ok and pydantic_ok
    print("all targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
