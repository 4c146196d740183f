"""The committed JSON Schema and the example repository stay true to the code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from desired_support import Repo

from reconciler.desired.schemas import json_schema
from reconciler.desired.sitefile import SiteFile

ROOT = Path(__file__).resolve().parents[2]
COMMITTED_SCHEMA = ROOT / "schema" / "site.schema.json"
MODELINE = "# yaml-language-server: $schema=../schema/site.schema.json"
EXAMPLE_SITES = sorted((ROOT / "sites").glob("*.y*ml"))


def test_the_committed_schema_is_up_to_date() -> None:
    committed = COMMITTED_SCHEMA.read_text(encoding="utf-8")

    assert committed.rstrip("\n") == json_schema("site").rstrip("\n"), (
        "schema/site.schema.json is out of date with the SiteFile model; "
        "run `reconciler schema > schema/site.schema.json` and commit the result"
    )


@pytest.mark.parametrize("kind", ["reconciler", "people"])
def test_the_committed_schemas_of_reconciler_and_people_yaml_are_up_to_date(
    kind: str, repo: Repo
) -> None:
    committed = (ROOT / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")

    assert committed == json_schema(kind), (
        f"schema/{kind}.schema.json is out of date with its model; run "
        f"`reconciler schema --file {kind} > schema/{kind}.schema.json` and commit the result"
    )
    assert repo.run("schema", "--file", kind).stdout == committed


def test_reconciler_schema_prints_the_committed_schema(repo: Repo) -> None:
    result = repo.run("schema")

    assert result.exit_code == 0
    assert result.stdout == COMMITTED_SCHEMA.read_text(encoding="utf-8"), (
        "run `reconciler schema > schema/site.schema.json`"
    )


def test_the_schema_describes_every_key_of_a_site_file() -> None:
    schema = json.loads(json_schema("site"))

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["id", "owner"]
    assert list(schema["properties"]) == list(SiteFile.model_fields)
    assert all(prop.get("description") for prop in schema["properties"].values())
    assert schema["$defs"]["Role"]["enum"] == ["viewer", "editor", "admin"]


def test_there_are_example_site_files() -> None:
    assert len(EXAMPLE_SITES) >= 3


@pytest.mark.parametrize("path", EXAMPLE_SITES, ids=lambda path: path.name)
def test_every_example_site_file_starts_with_the_schema_modeline(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]

    assert first_line == MODELINE
    assert (path.parent / first_line.split("$schema=")[1]).resolve() == COMMITTED_SCHEMA


def test_the_examples_validate() -> None:
    """A smoke test of the installed command, as a user runs it in the repository."""
    completed = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout == f"{len(EXAMPLE_SITES)} site files valid\n"
    assert completed.stderr == ""
