"""End-to-end fixtures: a copy of the example repository and the real CLI.

The CLI runs in-process through click's runner; the platform is the sandbox over real
HTTP on 127.0.0.1 (embedded, or started here with injected faults).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.sandbox.server import EmbeddedSandbox

EXAMPLE = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = ("reconciler.yaml", "people.yaml", "sandbox.seed.yaml")


@dataclass
class Repo:
    root: Path
    env: dict[str, str]
    platform: EmbeddedSandbox | None = None  # set when the sandbox runs as a remote platform

    def run(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli,
            ["--root", str(self.root), *args],
            input=input,
            env=self.env,
            catch_exceptions=False,
        )

    @property
    def db(self) -> Path:
        """The embedded sandbox's database."""
        return self.root / ".reconciler" / "sandbox.db"

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def example_repo(tmp_path: Path) -> Repo:
    """The example repository (reconciler.yaml, people.yaml, sites/, seed) in tmp_path."""
    for name in EXAMPLE_FILES:
        shutil.copy(EXAMPLE / name, tmp_path / name)
    shutil.copytree(EXAMPLE / "sites", tmp_path / "sites")
    return Repo(tmp_path, {"NO_COLOR": "1"})
