"""Small repositories in a temporary folder, and `reconciler validate` run on them.

Test modules import ``desired_support``, never ``conftest``: every test folder has a
``conftest`` module, and which one ``import conftest`` finds depends on what pytest
collected first.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import cli

EXPERT = "studio@pixel.example"
CONFIG = f"expert: {EXPERT}\n"
PEOPLE = """\
tom:
  email: tom@freelance.example
  name: Tom Freelance
anna:
  email: Anna@Acme-Bakery.example
"""


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


class Repo:
    """A repository under construction: write files, then run the CLI on it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str | bytes) -> Path:
        """Write ``name`` (relative to the root); text is dedented."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def site(self, file_name: str, text: str | bytes) -> Path:
        """Write ``sites/<file_name>``; a name without a suffix gets ``.yaml``."""
        if "." not in file_name:
            file_name += ".yaml"
        return self.write(f"sites/{file_name}", text)

    def run(self, *args: str) -> Result:
        runner = CliRunner()
        result = runner.invoke(cli, ["--root", str(self.root), *args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def validate(self, *args: str) -> Result:
        return self.run("validate", *args)
