"""Run `reconciler sandbox serve` as a separate process for a benchmark.

A real platform is another machine: its work is not the reconciler's. Running the
sandbox in its own process keeps its CPU time out of the measured command, and its
request counters (`/sandbox/stats`) say how many requests the command made.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def reconciler_command() -> list[str]:
    script = Path(sys.executable).with_name("reconciler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler"]


def timed(root: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Seconds one ``reconciler --root ROOT ARGS`` takes; exits the benchmark if it fails
    (exit 2, "changes to apply", is a success here)."""
    start = time.perf_counter()
    done = subprocess.run(
        [*reconciler_command(), "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


@contextmanager
def sandbox_process(db: Path, faults: str = "") -> Iterator[str]:
    """Serve ``db`` on 127.0.0.1; yields the base URL; stops the server afterwards."""
    port = free_port()
    args = [*reconciler_command(), "sandbox", "serve", "--port", str(port), "--db", str(db)]
    if faults:
        args += ["--faults", faults]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited: {process.stderr and process.stderr.read()!r}")
        try:
            stats(url)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the sandbox did not start within 30 s")


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=5) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


@contextmanager
def serving_repository(root: Path, db: Path, token: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``db`` served in its own process, and ``root``'s reconciler.yaml pointing at it;
    yields the URL and the environment that holds the token. The file is restored after."""
    config = (root / "reconciler.yaml").read_text()
    with sandbox_process(db) as url:
        (root / "reconciler.yaml").write_text(
            f"{config}platform:\n  url: {url}\n  token_env: BENCH_TOKEN\n"
        )
        try:
            yield url, {"BENCH_TOKEN": token}
        finally:
            (root / "reconciler.yaml").write_text(config)


def platform_requests(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """The requests made between two ``stats`` by route, less the benchmark's own."""
    return {
        route: count - before["by_route"].get(route, 0)
        for route, count in after["by_route"].items()
        if count != before["by_route"].get(route, 0) and not route.startswith("GET /sandbox/")
    }
