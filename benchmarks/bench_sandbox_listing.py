"""Benchmark: the sandbox's GET /v1/sites page cost at 1,000 and 100,000 sites.

Run with ``python benchmarks/bench_sandbox_listing.py``. Targets (issue 11, DESIGN
section 6): a page of 500 at 100,000 sites costs at most 2x a page at 1,000 sites, at
the first and at the last cursor alike; a full listing of 100,000 sites costs the
serving process under 2 s of CPU.

The expert owns 90% of the sites, collaborates on 5% (owned by clients) and cannot see
the other 5%, so the visibility filter has both of its halves to serve. Page times are
the store's own (query and page model, in this process; median of repeated runs); the
full listing goes through the client to `reconciler sandbox serve` in its own process,
whose CPU time is read from /proc before and after.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from platform_process import sandbox_process
from reconciler.model import AccountKind, Package, Role
from reconciler.platform.client import PlatformClient
from reconciler.sandbox.store import SandboxStore, SiteRow

EXPERT = "studio@pixel.example"
CLIENT = "owner@client.example"
OTHER = "other@agency.example"
PAGE = 500
RUNS = 15
SIZES = (1_000, 100_000)


def rows(count: int) -> Iterator[SiteRow]:
    for n in range(count):
        site_id = f"site-{n:06d}"
        kind = n % 20
        if kind == 0:  # a client's site the expert collaborates on
            owner, collaborators = CLIENT, {EXPERT: Role.EDITOR}
        elif kind == 1:  # another agency's site: not the expert's to see
            owner, collaborators = OTHER, {"tom@freelance.example": Role.VIEWER}
        else:
            owner, collaborators = EXPERT, {"tom@freelance.example": Role.VIEWER}
        yield (site_id, f"Site {n}", owner, owner, Package.FREE, None, collaborators)


def build(db: Path, count: int) -> str:
    with SandboxStore(db) as store:
        for email, kind in ((EXPERT, AccountKind.EXPERT), (CLIENT, AccountKind.CUSTOMER),
                            (OTHER, AccountKind.EXPERT)):  # fmt: skip
            store.ensure_account(email, kind)
        with store.transaction() as tx:
            tx.insert_sites(rows(count))
        return store.token_for(EXPERT)


def page_times(db: Path) -> tuple[float, float, int]:
    """Median seconds of the first page and of the last page, and the pages in all."""
    with SandboxStore(db) as store:
        cursors: list[str | None] = [None]
        while True:
            with store.transaction() as tx:
                page = tx.list_sites(EXPERT, PAGE, cursors[-1])
            if page.next_cursor is None:
                break
            cursors.append(page.next_cursor)

        def median(cursor: str | None) -> float:
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                with store.transaction() as tx:
                    tx.list_sites(EXPERT, PAGE, cursor).model_dump_json()
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        return median(cursors[0]), median(cursors[-1]), len(cursors)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_listing(db: Path, token: str) -> tuple[int, float, float]:
    """Sites listed through the client, the wall time, and the server's CPU time."""
    with sandbox_process(db) as url:
        pid = _server_pid(url)
        with PlatformClient(url, token) as client:
            client.me()  # warm: the first request pays for lazy imports
            cpu_before, started = cpu_seconds(pid), time.perf_counter()
            count = sum(1 for _ in client.iter_sites(page_size=PAGE))
            wall = time.perf_counter() - started
            cpu = cpu_seconds(pid) - cpu_before
    return count, wall, cpu


def _server_pid(url: str) -> int:
    port = url.rpartition(":")[2]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and port.encode() in cmdline:
                return int(entry.name)
    raise SystemExit("cannot find the sandbox's process")


def main() -> None:
    results: dict[int, tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in SIZES:
            db = Path(folder) / f"listing-{count}.db"
            started = time.perf_counter()
            token = build(db, count)
            print(f"{count:>7} sites built in {time.perf_counter() - started:.1f}s")
            results[count] = page_times(db)
            first, last, pages = results[count]
            print(f"{count:>7} sites: page of {PAGE} first {first * 1000:.2f} ms, "
                  f"last {last * 1000:.2f} ms ({pages} pages)")  # fmt: skip
        listed, wall, cpu = served_listing(db, token)
    small, large = results[SIZES[0]], results[SIZES[-1]]
    ratio_first, ratio_last = large[0] / small[0], large[1] / small[1]
    print(f"page time {SIZES[-1]:,} vs {SIZES[0]:,}: first {ratio_first:.2f}x, "
          f"last {ratio_last:.2f}x (target <= 2x)")  # fmt: skip
    print(f"full listing of {listed:,} visible sites through the client: {wall:.2f}s wall, "
          f"{cpu:.2f}s server CPU (target < 2 s)")  # fmt: skip
    ok = ratio_first <= 2 and ratio_last <= 2 and cpu < 2
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
