"""``schema``: the JSON Schema of a site file."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.desired.sitefile import site_json_schema


@dataclass(frozen=True)
class SchemaOperation:
    def run(self) -> str:
        return site_json_schema()
