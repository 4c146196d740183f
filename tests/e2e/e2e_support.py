"""End-to-end fixtures: a copy of the example repository and the real CLI.

The CLI runs in-process through click's runner; the platform is the sandbox over real
HTTP on 127.0.0.1 (embedded, or started here with injected faults).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.sandbox.server import ThreadedSandbox
from support.repo import Repo as BaseRepo

EXAMPLE = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = ("reconciler.yaml", "people.yaml", "sandbox.seed.yaml")


class Repo(BaseRepo):
    """The example repository; ``platform`` is set when the sandbox runs as a remote
    platform (started by the test) instead of the embedded one."""

    platform: ThreadedSandbox | None = None


def example_repo(tmp_path: Path) -> Repo:
    """The example repository (reconciler.yaml, people.yaml, sites/, seed) in tmp_path."""
    for name in EXAMPLE_FILES:
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copytree(EXAMPLE / "sites", tmp_path / "sites")
    return Repo(tmp_path, {"NO_COLOR": "1"})
