"""Start-up: the commands that never need a platform never import one.

``validate`` runs in the pre-commit hook on every commit, and ``--help``, ``fmt`` and
``schema`` are run by hand: none of them may pay for the sandbox, the web stack, the
HTTP client or git. Each runs as a real subprocess, as a user runs it, and
``python -X importtime`` lists every module it imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from e2e_support import Repo

from reconciler.cli import cli

PLATFORM_MODULES = ("reconciler.sandbox", "fastapi", "uvicorn", "starlette", "requests", "git")


def imported_modules(repo: Repo, *args: str) -> list[str]:
    """Every module ``reconciler ARGS`` imported, from ``-X importtime``'s report.

    Set by the environment, the report covers the embedded sandbox's child process too.
    """
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--root", str(repo.root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert done.returncode in (0, 2), done.stderr[-2000:]
    return [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    ]


def platform_modules_in(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if any(name == top or name.startswith(top + ".") for top in PLATFORM_MODULES)
    ]


@pytest.mark.parametrize(
    "args",
    [("--help",), ("validate",), ("fmt", "--check"), ("schema",), ("sandbox", "--help")],
    ids=["help", "validate", "fmt", "schema", "sandbox-help"],
)
def test_commands_without_a_platform_import_none_of_its_modules(
    repo: Repo, args: tuple[str, ...]
) -> None:
    modules = imported_modules(repo, *args)

    assert "reconciler.cli" in modules  # the report is read correctly
    unexpected = platform_modules_in(modules)
    if args[0] == "sandbox":  # its help needs its own commands, but not the web stack
        unexpected = [name for name in unexpected if name != "reconciler.sandbox.cli"]
        unexpected = [name for name in unexpected if name != "reconciler.sandbox"]
    assert unexpected == []


def test_the_help_lists_the_sandbox_group_with_its_own_summary(repo: Repo) -> None:
    from reconciler.sandbox.cli import sandbox

    shown = repo.run("--help")

    assert shown.exit_code == 0, shown.output
    line = next(line for line in shown.output.splitlines() if line.strip().startswith("sandbox"))
    assert line.split(None, 1)[1] == sandbox.get_short_help_str(limit=200)
    assert cli.get_command(click.Context(cli), "sandbox") is sandbox


def test_plan_with_the_embedded_sandbox_needs_neither_the_web_stack_nor_git(repo: Repo) -> None:
    modules = imported_modules(repo, "plan")

    # A small repository's sandbox is a thread: the server is imported by name
    # (a child process would run it as __main__, and report it so).
    assert "reconciler.sandbox.server" in modules
    web_stack_or_git = [
        name
        for name in platform_modules_in(modules)
        if name.split(".")[0] in ("fastapi", "uvicorn", "starlette", "git")
    ]
    assert web_stack_or_git == []


def test_validate_of_a_configured_platform_checks_its_block_without_an_http_client(
    repo: Repo,
) -> None:
    """The kind's factory checks the block; the client it would speak through is made on
    first use, which validate never comes to."""
    repo.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\nplatform:\n  url: https://platform.example/api\n",
    )

    modules = imported_modules(repo, "validate")

    # The factory's module comes by importlib, which -X importtime does not list; the
    # settings it checks the block with are imported by it alone.
    assert "reconciler.platform.config" in modules
    assert platform_modules_in(modules) == []


# What validate needs none of: pydantic's plugin loader and importlib.metadata (no
# plugin is installed), the platform's wire schema and Protocol, the HTML entities, the
# compression modules that shutil imports (issue 20: validate of a few files).
NOT_FOR_VALIDATE = (
    "importlib.metadata",
    "pydantic.plugin._loader",
    "reconciler.platform.base",
    "reconciler.platform.schema",
    "html.entities",
    "shutil",
)


def test_validate_imports_nothing_it_does_not_use(repo: Repo) -> None:
    modules = imported_modules(repo, "validate")

    assert "reconciler.desired.loader" in modules  # the report is read correctly
    assert [name for name in NOT_FOR_VALIDATE if name in modules] == []


_PLUGIN = """
import os


class Recorder:
    def new_schema_validator(self, schema, schema_type, *args, **kwargs):
        with open(os.environ["PLUGIN_LOG"], "a") as log:
            log.write(getattr(schema_type, "__name__", str(schema_type)) + "\\n")
        return None, None, None


plugin = Recorder()
"""


def test_an_installed_pydantic_plugin_is_still_loaded(tmp_path: Path, repo: Repo) -> None:
    """Without plugins pydantic's loader is not imported; with one, pydantic loads it
    as it always did: the models of the command reach it."""
    packages = tmp_path / "packages"
    (packages / "recorder-1.0.dist-info").mkdir(parents=True)
    (packages / "recorder_plugin.py").write_text(_PLUGIN)
    (packages / "recorder-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: recorder\nVersion: 1.0\n"
    )
    (packages / "recorder-1.0.dist-info" / "entry_points.txt").write_text(
        "[pydantic]\nrecorder = recorder_plugin:plugin\n"
    )
    log = tmp_path / "plugin.log"
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--root", str(repo.root), "validate"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(packages), "PLUGIN_LOG": str(log)},
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "SiteFile" in log.read_text().split()


# What plan with a small repository's embedded sandbox needs none of: importlib.metadata
# (urllib3.http2 imports it for a check of HTTP/2 it never makes), subprocess (only a
# large repository's sandbox is a child process), charset_normalizer (requests reads
# its version; only a body without a charset read as text needs it), the applier, the
# plan file's loader (--out, apply FILE), the TypeAdapter of a change from JSON, and
# _strptime (the sandbox reads its moments with fromisoformat).
NOT_FOR_A_SMALL_PLAN = (
    "importlib.metadata",
    "subprocess",
    "charset_normalizer",
    "reconciler.reconcile.apply",
    "reconciler.operations.planfile",
    "pydantic.type_adapter",
    "_strptime",
)


def test_plan_imports_nothing_it_does_not_use(repo: Repo) -> None:
    modules = imported_modules(repo, "plan")

    assert "requests" in modules  # the report is read correctly
    assert [name for name in NOT_FOR_A_SMALL_PLAN if name in modules] == []


def test_plan_on_an_embedded_sandbox_made_already_builds_no_seed_models(repo: Repo) -> None:
    """Only the first command seeds the embedded sandbox; the next ones check the seed's
    mark (a hash beside the database) without the seed file's models."""
    first = imported_modules(repo, "plan")

    modules = imported_modules(repo, "plan")

    assert "reconciler.sandbox.seed" in first  # the report is read correctly
    assert "reconciler.sandbox.seed_mark" in modules
    assert "reconciler.sandbox.seed" not in modules
