"""The JSON Schemas of the files an expert writes: site files, reconciler.yaml and
people.yaml (``reconciler schema``, the repository's ``schema/``).

Generated from the models validate checks the files with, plus what validate checks
beyond the models' types, from the same constants: the forms of an address
(``EMAIL_PATTERN``), a handle and ``expert``; the keys whose empty value validate refuses
(``NO_VALUE_REFUSED``); the kinds of platform. So an editor refuses what validate
refuses. What a JSON Schema cannot say (a rule across files such as an unknown handle,
the file's name, comparisons of two values) is left to validate; the tricky-file corpus
test lists each such case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from reconciler.addresses import EMAIL_PATTERN
from reconciler.desired.config import HANDLE_PATTERN, ISO_DATE_PATTERN, Config, Person
from reconciler.desired.sitefile import NO_VALUE_REFUSED, SiteFile
from reconciler.model import EXPERT_KEYWORD
from reconciler.platform.config import ENV_NAME_PATTERN, PlatformConfig
from reconciler.platform.duda import DUDA_HARD_LIMIT, DudaConfig
from reconciler.platform.kinds import DEFAULT_KIND, PlatformBlock

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://github.com/site-reconciler/schema/"
# As PlatformConfig checks a URL: http or https (any case), a host, no user or password.
URL_PATTERN = r"^[\x00-\x20]*[hH][tT][tT][pP][sS]?://[^/?#@][^@]*$"
_PERSON = {
    "anyOf": [
        {
            "pattern": HANDLE_PATTERN,
            "description": f"a handle from people.yaml, or {EXPERT_KEYWORD}",
        },
        {"pattern": EMAIL_PATTERN, "description": "an e-mail address"},
    ]
}


def json_schema(kind: str = "site") -> str:
    """The JSON Schema of ``kind`` (one of ``SCHEMAS``), as the file ``schema/`` holds."""
    schema = SCHEMAS[kind]()
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def site_schema() -> dict[str, Any]:
    schema = SiteFile.model_json_schema()
    properties = schema["properties"]
    for key in NO_VALUE_REFUSED:  # `name:` with no value is an error, not "left out"
        properties[key] = _not_null(properties[key])
    for key in ("owner", "billing_contact"):
        properties[key].update(_PERSON)
    properties["collaborators"]["propertyNames"] = _PERSON
    return _headed(schema, "site")


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(schema_generator=_WithPlatformBlock)
    schema["properties"]["expert"]["pattern"] = EMAIL_PATTERN
    return _headed(schema, "reconciler")


def people_schema() -> dict[str, Any]:
    person = Person.model_json_schema()
    person["properties"]["email"]["pattern"] = EMAIL_PATTERN
    person["properties"]["left"]["anyOf"][0]["pattern"] = ISO_DATE_PATTERN
    schema = {
        "title": "People",
        "description": "people.yaml: handles for people used on many sites, as "
        "`tom: {email: tom@freelance.example, name: Tom}`",
        "type": "object",
        "propertyNames": {"pattern": HANDLE_PATTERN},
        "additionalProperties": {"$ref": "#/$defs/Person"},
        "$defs": {"Person": person},
    }
    return _headed(schema, "people")


SCHEMAS: Mapping[str, Callable[[], dict[str, Any]]] = {
    "site": site_schema,
    "reconciler": config_schema,
    "people": people_schema,
}
"""The schemas by name; ``schema/<name>.schema.json`` holds each."""


def _headed(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "$id": f"{BASE_ID}{name}.schema.json", **schema}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``prop`` without its ``null`` alternative (pydantic's ``X | None``) and default."""
    branches = [b for b in prop.pop("anyOf") if b != {"type": "null"}]
    prop.pop("default", None)
    (branch,) = branches
    return {**branch, **prop}


def platform_block_schema() -> dict[str, Any]:
    """The ``platform`` block: a mapping whose ``kind`` (default reconciler) says which
    keys it has. The built-in kinds' keys are PlatformConfig's and DudaConfig's; another
    kind's are its factory's to check (a plugin: no schema here says which)."""
    own = PlatformConfig.model_json_schema()
    own["properties"]["url"]["pattern"] = URL_PATTERN
    own["properties"]["token_env"]["pattern"] = ENV_NAME_PATTERN.pattern
    own["properties"] = {"kind": {"const": DEFAULT_KIND}, **own["properties"]}
    return {
        "type": "object",
        "properties": {
            "kind": {
                "type": "string",
                "description": f"The platform kind (default: {DEFAULT_KIND}); another kind "
                "is a plugin whose factory checks the other keys",
            }
        },
        "if": {"properties": {"kind": {"const": DEFAULT_KIND}}},
        "then": own,
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": "duda"}}, "required": ["kind"]},
                "then": duda_block_schema(),
            }
        ],
    }


def duda_block_schema() -> dict[str, Any]:
    """The keys of ``kind: duda`` (DESIGN.md section 9), as DudaConfig checks them; what
    needs two values at once (the same planId twice, two roles alike) is validate's."""
    schema = DudaConfig.model_json_schema()
    defs = schema.pop("$defs")
    properties = schema["properties"]
    properties["url"]["pattern"] = URL_PATTERN
    for key in ("user_env", "password_env"):
        properties[key]["pattern"] = ENV_NAME_PATTERN.pattern
    properties["rate_limit"].update(minimum=1, maximum=DUDA_HARD_LIMIT)
    roles = defs["DudaRoles"]
    for role in roles["properties"].values():
        names, every = role["anyOf"]
        names["minItems"] = 1
        names["items"]["pattern"] = r"\S"
        role["anyOf"] = [names, every]
    properties["roles"] = roles
    mapping, nothing = properties["plans"]["anyOf"]
    mapping["propertyNames"] = defs["Package"]
    mapping["additionalProperties"] = {"type": "integer", "minimum": 0}
    mapping["minProperties"] = 1
    properties["plans"]["anyOf"] = [mapping, nothing]
    properties = {"kind": {"const": "duda"}, **properties}
    return {**schema, "properties": properties}


class _WithPlatformBlock(GenerateJsonSchema):
    """pydantic's generator, which writes the ``platform`` block as the file holds it,
    not as the dataclass that carries it with its locations."""

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        if schema["cls"] is PlatformBlock:
            return platform_block_schema()
        return super().dataclass_schema(schema)
