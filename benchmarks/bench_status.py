"""Benchmark: `reconciler status` against `reconciler plan` on 10,000 sites, and the page.

    .venv/bin/python benchmarks/bench_status.py [--count 10000] [--repeat 3]

Targets (issue 14): status takes at most 1.5x plan's time on the same files and the same
platform (both as subprocesses, start-up included; the platform is `reconciler sandbox
serve` in its own process, seeded by the generator); status makes no more list requests
than plan; the HTML page for 10,000 sites is under 5 MB; in Debian's Chromium (driven by
Playwright) the page opens, filters and sorts in under 2 s each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_repository
from platform_process import sandbox_process, stats, timed

TARGET_RATIO = 1.5
MAX_HTML_BYTES = 5 * 1024 * 1024
MAX_BROWSER_SECONDS = 2.0
FORMATS = ("json", "text", "csv", "html")


def seed_database(seed: Path, db: Path) -> None:
    """Seed through the sandbox's own API: `reconciler sandbox seed` refuses a seed file of
    10,000 sites (more than 100,000 values, its limit for one file)."""
    from ruamel.yaml import YAML

    from reconciler.sandbox.seed import Seed, apply_seed
    from reconciler.sandbox.store import SandboxStore

    data = YAML(typ="safe").load(seed.read_text(encoding="utf-8"))
    with SandboxStore(db) as store:
        apply_seed(store, Seed.model_validate(data))


def list_requests(url: str) -> int:
    return int(stats(url)["by_route"].get("GET /v1/sites", 0))


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def measure_commands(root: Path, db: Path, token: str, repeat: int, page: Path) -> bool:
    config = (root / "reconciler.yaml").read_text()
    ok = True
    with sandbox_process(db) as url:
        (root / "reconciler.yaml").write_text(
            f"{config}platform:\n  url: {url}\n  token_env: BENCH_TOKEN\n"
        )
        env = {**os.environ, "BENCH_TOKEN": token, "COLUMNS": "160"}
        commands = {"plan": ("plan", "--force")}
        for output_format in FORMATS:
            out = str(page.with_suffix(f".{output_format}"))
            commands[output_format] = ("status", "--format", output_format, "--out", out)
        # Interleaved, so that a busy moment of a shared machine does not favour one.
        times: dict[str, list[float]] = {name: [] for name in commands}
        requests: dict[str, int] = dict.fromkeys(commands, 0)
        for _ in range(repeat):
            for name, args in commands.items():
                before = list_requests(url)
                times[name].append(timed(root, *args, env=env))
                requests[name] += list_requests(url) - before
        plan = min(times["plan"])
        print(
            f"plan:          best {plan:.2f} s of {repeat}, "
            f"{requests['plan'] / repeat:.0f} list requests"
        )
        for output_format in FORMATS:
            best = min(times[output_format])
            pages = requests[output_format] / repeat
            ratio = best / plan
            good = ratio <= TARGET_RATIO and pages <= requests["plan"] / repeat
            ok = ok and good
            print(
                f"status {output_format:<5}:  best {best:.2f} s, {ratio:.2f}x plan "
                f"(target <= {TARGET_RATIO}x), {pages:.0f} list requests: {verdict(good)}"
            )
    return ok


def measure_browser(page: Path) -> bool:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RECONCILER_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        print("browser: no Chromium (apt-get install chromium): MISSED")
        return False
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        figures = {
            "open": _timed_step(tab, lambda: tab.goto(page.as_uri(), wait_until="load")),
            "filter (text)": _timed_step(tab, lambda: tab.fill("#q", "bakery")),
            "filter (owner)": _timed_step(tab, lambda: tab.select_option("#owner", "client")),
            "filter (attention)": _timed_step(tab, lambda: tab.check("#attention")),
        }
        tab.select_option("#owner", "")
        tab.uncheck("#attention")
        tab.fill("#q", "")
        figures["sort (owner)"] = _timed_step(
            tab, lambda: tab.locator("thead button", has_text="Owner").click()
        )
        figures["sort (handover)"] = _timed_step(
            tab, lambda: tab.locator("thead button", has_text="Handover").click()
        )
        shown = tab.locator("#shown").inner_text()
        browser.close()
    ok = True
    for step, seconds in figures.items():
        good = seconds < MAX_BROWSER_SECONDS
        ok = ok and good
        print(
            f"browser {step:<19} {seconds:.2f} s "
            f"(target < {MAX_BROWSER_SECONDS} s): {verdict(good)}"
        )
    print(f"browser shows: {shown}")
    return ok


def _timed_step(tab: object, action: object) -> float:
    """Wall time of ``action`` until the page has laid out and painted the result."""
    start = time.perf_counter()
    action()  # type: ignore[operator]
    tab.evaluate(  # type: ignore[attr-defined]
        "() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))"
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        generated = generate_repository(root, options.count, seed_file=True)
        db = Path(folder) / "platform.db"
        seed_database(root / "sandbox.seed.yaml", db)
        page = Path(folder) / "status"
        ok = measure_commands(root, db, generated.expert_token, options.repeat, page)
        html = page.with_suffix(".html")
        size = html.stat().st_size
        small = size < MAX_HTML_BYTES
        print(
            f"html page:     {size / 1_048_576:.2f} MB for {options.count} sites "
            f"(target < 5 MB): {verdict(small)}"
        )
        ok = measure_browser(html) and small and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
