"""The domain does no I/O (DESIGN.md section 4): model.py and every module of reconcile/,
present or future, import nothing that does, indirectly included (an import-linter
contract in pyproject.toml), and call no file function (this scan)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "reconciler"
DOMAIN = [PACKAGE / "model.py", *sorted((PACKAGE / "reconcile").rglob("*.py"))]
FILE_METHODS = ("read_text", "read_bytes", "write_text", "write_bytes", "open")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def file_calls(path: Path) -> list[str]:
    """``open(...)`` and ``x.read_*(...)``/``x.write_*(...)``/``x.open(...)`` calls."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id == "open":
            found.append((node.lineno, "open("))
        elif isinstance(function, ast.Attribute) and function.attr in FILE_METHODS:
            found.append((node.lineno, f".{function.attr}("))
    return [f"{path.name}:{line}: {call}" for line, call in sorted(found)]


def test_no_module_of_the_domain_calls_a_file_function() -> None:
    assert len(DOMAIN) > 5  # the scan finds the modules
    assert [call for path in DOMAIN for call in file_calls(path)] == []


def test_the_scan_finds_what_it_forbids(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text(
        "from pathlib import Path\n"
        "def save(text):\n"
        "    with open('plan.json', 'w') as out:\n"
        "        out.write(text)\n"
        "    Path('plan.json').write_text(text)\n"
        "    return Path('x').read_bytes()\n",
        encoding="utf-8",
    )

    assert file_calls(module) == [
        "leaky.py:3: open(",
        "leaky.py:5: .write_text(",
        "leaky.py:6: .read_bytes(",
    ]


# --- the import contract, on a scratch copy of the package --------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of src/ and pyproject.toml, which lint-imports reads instead of the tree."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PACKAGE, copy / "src" / "reconciler", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(copy / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def broken(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The names of the broken contracts, from the report's summary lines."""
    return [
        line.partition(" BROKEN")[0] for line in result.stdout.splitlines() if " BROKEN" in line
    ]


def test_the_scratch_copy_keeps_every_contract(scratch: Path) -> None:
    result = lint_imports(scratch)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_new_domain_module_that_opens_a_socket_breaks_the_contract(scratch: Path) -> None:
    (scratch / "src/reconciler/reconcile/newrule.py").write_text(
        "import socket\nimport urllib.request\n\n"
        "from reconciler.platform.client import PlatformClient\n",
        encoding="utf-8",
    )

    result = lint_imports(scratch)

    assert result.returncode == 1
    assert "The domain does no I/O" in broken(result)
    for forbidden in ("socket", "urllib", "reconciler.platform.client"):
        assert f"reconciler.reconcile is not allowed to import {forbidden}:" in result.stdout
    assert "-   reconciler.reconcile.newrule -> socket (l.1)" in result.stdout


def test_the_diff_starting_a_process_breaks_the_contract(scratch: Path) -> None:
    diff = scratch / "src/reconciler/reconcile/diff.py"
    diff.write_text(diff.read_text(encoding="utf-8") + "\nimport subprocess\n", encoding="utf-8")

    result = lint_imports(scratch)

    assert broken(result) == ["The domain does no I/O"]
    assert "reconciler.reconcile is not allowed to import subprocess:" in result.stdout


def test_an_indirect_import_breaks_it_too(scratch: Path) -> None:
    helper = scratch / "src/reconciler/reconcile/helper.py"
    helper.write_text("import tempfile\n", encoding="utf-8")
    rule = scratch / "src/reconciler/reconcile/rule.py"
    rule.write_text("from reconciler.reconcile import helper\n", encoding="utf-8")

    result = lint_imports(scratch)

    assert broken(result) == ["The domain does no I/O"]
    assert "reconciler.reconcile is not allowed to import tempfile:" in result.stdout
