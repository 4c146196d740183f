"""What a clean `pip install .` adds, and that the core alone runs the example.

In a fresh virtual environment: `pip install <this repository>` (the core), the size it
added (target: at most 40 MB), then validate, plan, status and apply on a copy of the
example repository; the approval gate must then say which pip line adds `[github]`.
With `--extra github`, that extra is installed too and measured.

It needs the package index (pip resolves afresh), so it is a script, never a test:

    python scripts/install_size.py            # the core; exit 1 over the target
    python scripts/install_size.py --extra github
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 40.0  # 1 MB = 1,000,000 bytes, the smaller unit
EXAMPLE = ("reconciler.yaml", "people.yaml", "sandbox.seed.yaml", "sites", "schema")


def tree_size(folder: Path) -> tuple[int, int]:
    """Bytes (apparent size) and number of files under ``folder``."""
    total = files = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            files += 1
    return total, files


def run(*args: str | Path, cwd: Path | None = None, check: bool = True) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if check and done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, args))}\n{done.stderr}")
    return done.stdout + done.stderr


def example_repository(into: Path) -> Path:
    repo = into / "example"
    repo.mkdir()
    for name in EXAMPLE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name)
        elif source.exists():
            shutil.copy2(source, repo / name)
    (repo / ".gitignore").write_text(".reconciler/\n", encoding="utf-8")
    identity = ("-c", "user.name=Install check", "-c", "user.email=check@example.com")
    run("git", "init", "--quiet", repo)
    run("git", "-C", repo, "add", ".")
    run("git", "-C", repo, *identity, "commit", "--quiet", "-m", "example")
    return repo


def check_commands(venv: Path, repo: Path, extra: str | None) -> None:
    reconciler = venv / "bin" / "reconciler"
    for command in (["validate"], ["plan"], ["status"], ["apply", "--yes"]):
        print(f"$ reconciler {' '.join(command)}")
        print("  " + run(reconciler, "--root", repo, *command).strip().splitlines()[-1])
    gated = run(reconciler, "--root", repo, "apply", "--yes", "--require-approval", check=False)
    print("$ reconciler apply --yes --require-approval")
    print("  " + "\n  ".join(gated.strip().splitlines()[-2:]))
    expected = "GITHUB_TOKEN is not set" if extra == "github" else "needs reconciler's [github]"
    if expected not in gated:
        sys.exit(f"expected {expected!r} from the approval gate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", choices=["github"], help="also install this extra")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconciler-install-") as temp:
        venv = Path(temp) / "venv"
        run(sys.executable, "-m", "venv", venv)
        before, files_before = tree_size(venv)
        target = f"{ROOT}[{options.extra}]" if options.extra else str(ROOT)
        run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", target)
        after, files_after = tree_size(venv)
        added = after - before
        what = f"pip install '.[{options.extra}]'" if options.extra else "pip install ."
        print(
            f"{what} added {added / 1e6:.1f} MB ({added / 2**20:.1f} MiB), "
            f"{files_after - files_before} files"
        )
        check_commands(venv, example_repository(Path(temp)), options.extra)
    if options.extra is None and added > TARGET_MB * 1e6:
        print(f"over the target: the core install must add at most {TARGET_MB:.0f} MB")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
