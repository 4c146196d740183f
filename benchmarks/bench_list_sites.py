"""Benchmark: list 10,000 sites through the client from a sandbox on 127.0.0.1.

Run with ``python benchmarks/bench_list_sites.py``. Prints the requests the sandbox
served (from ``/sandbox/stats``) and the time taken; listing must take one request per
page (20 pages of 500).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

from reconciler.model import AccountKind, Package, Role
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox

SITES = 10_000
EXPERT = "studio@pixel.example"


def seed(sandbox: ThreadedSandbox) -> str:
    """10,000 sites with two collaborators each, in one transaction."""
    store = sandbox.store
    store.ensure_account(EXPERT, AccountKind.EXPERT)
    collaborators = {"tom@freelance.example": Role.VIEWER, "eve@freelance.example": Role.EDITOR}
    with store.transaction() as tx:
        tx.insert_sites(
            (f"site-{n:05d}", f"Site {n}", EXPERT, EXPERT, Package.FREE, None, collaborators)
            for n in range(SITES)
        )
    return store.token_for(EXPERT)


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        ThreadedSandbox(Path(folder) / "bench.db") as sandbox,
    ):
        started = time.perf_counter()
        token = seed(sandbox)
        seeded = time.perf_counter() - started
        with SandboxClient(sandbox.url, token) as client:
            started = time.perf_counter()
            count = sum(1 for _ in client.iter_sites(page_size=500))
            listed = time.perf_counter() - started
            stats = client.stats()
    print(f"seeded {SITES} sites in {seeded:.2f}s")
    print(f"listed {count} sites in {listed:.3f}s")
    print(f"requests: {stats.total} {stats.by_route} {stats.by_status}")
    listed = stats.by_route.get("GET /v1/sites", 0)
    ok = count >= SITES and listed == math.ceil(count / 500)
    print(
        f"{listed} list requests for {count} sites (target: one a page of 500, "
        f"{math.ceil(count / 500)}): {'ok' if ok else 'MISSED'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
