"""The sandbox stays on the standard library: the import contracts forbid every web
framework (FastAPI, starlette, uvicorn) to every module, and ``lint-imports`` says so
when a module of a scratch copy of the package imports one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("fastapi", "starlette", "uvicorn")


def lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the copy (its pyproject.toml, its package first on the path)."""
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False)


def test_lint_imports_fails_when_sandbox_code_imports_a_web_framework(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    assert lint_imports(copy).returncode == 0  # the copy as it is keeps every contract

    module = copy / "src" / "reconciler" / "sandbox" / "web.py"
    module.write_text("".join(f"import {name}  # noqa: F401\n" for name in FRAMEWORKS))
    linted = lint_imports(copy)

    assert linted.returncode == 1, linted.stdout
    assert "Third-party clients only where named" in linted.stdout
    for name in FRAMEWORKS:
        assert f"reconciler.sandbox.web -> {name}" in linted.stdout
