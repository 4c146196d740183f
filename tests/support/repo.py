"""A repository under construction in a temporary folder, and the real CLI run on it.

The CLI runs in-process through click's runner; the platform, when a command needs
one, is the embedded sandbox over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from reconciler.cli import cli
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.store import SandboxStore

EXPERT = "studio@pixel.example"
"""The expert of every test repository (reconciler.yaml's ``expert:``)."""


@dataclass(frozen=True)
class Result:
    """What a user sees of one command: its exit code and its two streams."""

    exit_code: int
    stdout: str
    stderr: str
    output: str  # both streams in the order they were written

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


class Repo:
    """Write files (text is dedented), then run ``reconciler --root ROOT ...`` on them."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = {} if env is None else env

    def write(self, name: str, text: str | bytes) -> Path:
        """Write ``name`` (relative to the root), making its folders."""
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

    def site_path(self, site_id: str) -> Path:
        return self.root / "sites" / f"{site_id}.yaml"

    def read_site(self, site_id: str) -> str:
        return self.site_path(site_id).read_text(encoding="utf-8")

    @property
    def db(self) -> Path:
        """The embedded sandbox's database."""
        return self.root / ".reconciler" / "sandbox.db"

    def seed(self, seed: dict[str, Any]) -> None:
        """Write ``sandbox.seed.yaml``; the embedded sandbox starts from it."""
        yaml = YAML(typ="safe")
        yaml.default_flow_style = False
        with (self.root / "sandbox.seed.yaml").open("w", encoding="utf-8") as stream:
            yaml.dump(seed, stream)

    def start_sandbox(self) -> SandboxStore:
        """Create the embedded sandbox's database from the seed now (the CLI then reuses
        it), so that a test can change the platform's state the seed cannot express."""
        store = SandboxStore(self.db)
        seed_file(store, self.root / "sandbox.seed.yaml")
        return store

    def snapshot(self) -> dict[str, bytes]:
        """Every file under sites/, by path: to show a command wrote nothing."""
        return {
            str(path.relative_to(self.root)): path.read_bytes()
            for path in sorted((self.root / "sites").iterdir())
        }

    def run(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        result = runner.invoke(
            cli,
            ["--root", str(self.root), *args],
            input=input,
            env=self.env,
            catch_exceptions=False,
        )
        return Result(result.exit_code, result.stdout, result.stderr, result.output)

    def validate(self, *args: str) -> Result:
        return self.run("validate", *args)


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a fixed identity and no user or system configuration."""
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Reconciler CI",
        "GIT_AUTHOR_EMAIL": "ci@pixel.example",
        "GIT_COMMITTER_NAME": "Reconciler CI",
        "GIT_COMMITTER_EMAIL": "ci@pixel.example",
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout
