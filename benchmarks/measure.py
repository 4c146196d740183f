"""What every benchmark measures the same way: paired runs, medians, peak memory, verdicts.

A shared 2-core machine makes absolute times noisy; the ratio of two commands run back to
back survives better. So a target that is a ratio is measured as ``pairs`` of runs (A
then B, again and again) and judged on the median of the pairs' ratios. Each run is a
real subprocess: interpreter start-up and imports included, as a user or CI runs it.

Bytecode caches are written and used, as for an installed package, even when the
calling environment sets PYTHONDONTWRITEBYTECODE (compiling every module on every run
would time the compiler).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAIRS = 5  # the "median of at least 5"

ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}


def reconciler(*args: str | Path) -> list[str]:
    """``reconciler ARGS`` of the interpreter running the benchmark (its own package)."""
    script = Path(sys.executable).with_name("reconciler")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]
    return [*head, *(str(arg) for arg in args)]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_kb: int  # the child's own peak resident set (ru_maxrss, KiB on Linux)
    stdout: str


# The command is started by this small launcher, not by the benchmark: Linux counts in
# a child's peak memory (ru_maxrss) the memory of the process it was forked from, and a
# benchmark that generated 100,000 sites is large.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump([seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status)], out)
"""


def run(command: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """One subprocess: its wall time, its own peak memory and its output; exits the
    benchmark when it fails (exit 2, "changes to apply", is a success)."""
    environment = {**ENVIRONMENT, **(env or {})}
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as figures,
    ):
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, figures.name, *command]
        subprocess.run(launcher, stdout=out, stderr=err, env=environment, check=True)
        elapsed, peak_kb, code = json.loads(figures.read())
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code not in (0, 2):
        sys.exit(f"{shlex.join(command)} failed ({code}):\n{stdout[-1000:]}{stderr[-2000:]}")
    return Run(elapsed, peak_kb, stdout)


def seconds(command: Sequence[str], env: Mapping[str, str] | None = None) -> Callable[[], float]:
    """A function that runs ``command`` once and returns its wall time."""
    return lambda: run(command, env).seconds


@dataclass(frozen=True)
class Pairs:
    """Paired runs of A and B: each pair's seconds and ratio B / A."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(b / a for a, b in zip(self.a, self.b, strict=True))

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def paired(
    name_a: str,
    run_a: Callable[[], float],
    name_b: str,
    run_b: Callable[[], float],
    pairs: int = PAIRS,
) -> Pairs:
    """``pairs`` runs of A then B, back to back; prints each pair and the medians."""
    a: list[float] = []
    b: list[float] = []
    for index in range(pairs):
        a.append(run_a())
        b.append(run_b())
        print(
            f"  pair {index + 1}: {name_a} {a[-1]:.3f} s, {name_b} {b[-1]:.3f} s, "
            f"{b[-1] / a[-1]:.2f}x"
        )
    result = Pairs(tuple(a), tuple(b))
    print(
        f"  medians: {name_a} {statistics.median(a):.3f} s, {name_b} "
        f"{statistics.median(b):.3f} s; median of the ratios {result.ratio:.2f}x "
        f"(min {min(result.ratios):.2f}x, max {max(result.ratios):.2f}x)"
    )
    return result


def show_command(label: str, command: Sequence[str]) -> None:
    print(f"{label}: {shlex.join(command)}")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def target(name: str, value: str, bound: str, ok: bool) -> bool:
    """Print one target's line (the figure, the bound, the verdict) and return ``ok``."""
    print(f"TARGET {name}: {value} (target {bound}): {verdict(ok)}")
    return ok


def pages(count: int, size: int = 500) -> int:
    return math.ceil(count / size)


def finish(results: Sequence[bool]) -> None:
    """Exit 0 when every target held, else 1."""
    ok = all(results)
    print("all targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)
