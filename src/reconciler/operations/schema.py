"""``schema``: the JSON Schema of a site file, reconciler.yaml or people.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.desired.schemas import json_schema


@dataclass(frozen=True)
class SchemaOperation:
    kind: str = "site"  # a name of reconciler.desired.schemas.SCHEMAS

    def run(self) -> str:
        return json_schema(self.kind)
