"""The sandbox's OpenAPI 3.1 document, made from the route table and nothing else.

Each :class:`~reconciler.sandbox.routes.Route` gives an operation: its parameters come
from the fields of its path and query models, its request body and answers are the
JSON schemas of its pydantic models (in ``components``), its problems are
``application/problem+json``. The server reads requests by the same table, so the
document cannot describe a route the server answers otherwise.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from reconciler.platform.schema import ProblemDetails
from reconciler.sandbox.exchange import JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE, title_of
from reconciler.sandbox.routes import ROUTES, Route

JsonObject = dict[str, Any]

TITLE = "Site platform sandbox"
DESCRIPTION = "A local implementation of the site platform's API."
REF = "#/components/schemas/{model}"

PROBLEM_TEXT = {
    401: "The bearer token is missing or unknown",
    403: "The caller sees the site but may not make this change",
    404: "No such site, or the caller may not see it",
    409: "A platform rule refuses the change",
    412: "If-Match names a version the site is no longer at",
    415: "The body is sent as another media type than application/json",
    422: "The request is malformed",
    429: "Too many requests",
    503: "The platform is unavailable; retry later",
}
OK_TEXT = {200: "OK", 201: "Created", 204: "No Content"}
EDGE_PROBLEMS = {
    400: "The request line, a header or Content-Length is malformed",
    411: "A body was sent without Content-Length (Transfer-Encoding)",
    413: "The declared body is over 1 MiB",
    414: "The request line is over 64 KiB",
    431: "A header line is over 64 KiB, or there are more than 100",
}
"""What the HTTP edge answers before any route is reached: the same for every operation,
so each names these shared answers (``components.responses``)."""

_ETAG = {"ETag": {"description": 'The site\'s version, e.g. "3"', "schema": {"type": "string"}}}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}
}
_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The caller\'s quota per window of seconds, e.g. "default";q=50;w=1 '
        "(draft-ietf-httpapi-ratelimit-headers-11); sent when the platform limits the rate",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "What is left of the quota and when it is whole again, e.g. "
        '"default";r=49;t=1',
        "schema": {"type": "string"},
    },
}
_RATE_LIMIT = _RATE_LIMIT_HEADERS  # inline: schemathesis does not follow header $refs


def _write_headers(route: Route) -> list[JsonObject]:
    """If-Match and Idempotency-Key, with examples that a first write succeeds with."""
    return [
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": 'The ETag the change is based on, e.g. "3" (or *: unconditional). '
            "Entity tags are opaque and compared strongly: any other tag is answered 412.",
            "schema": {"type": "string"},
            "example": "*",
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Repeat a write safely: the first answer is replayed for this key. "
            "Reusing a key for a different request is 409.",
            "schema": {"type": "string", "maxLength": 255},
            "example": f"example-{route.name}",
        },
    ]


_BEARER = {
    "HTTPBearer": {"type": "http", "scheme": "bearer", "description": "The account's API token"}
}


def document() -> JsonObject:
    """The whole document, as ``GET /openapi.json`` serves it."""
    schemas = _component_schemas()
    paths: dict[str, JsonObject] = {}
    for route in ROUTES:
        if route.documented:
            paths.setdefault(route.template, {})[route.method.lower()] = _operation(route, schemas)
    schemas = dict(sorted(schemas.items()))
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                _edge_name(status): _problem(text) for status, text in EDGE_PROBLEMS.items()
            },
            "securitySchemes": _BEARER,
        },
    }


@functools.cache
def document_bytes() -> bytes:
    """:func:`document` as compact JSON, made once per process."""
    return json.dumps(document(), separators=(",", ":")).encode()


def _component_schemas() -> JsonObject:
    """Every model an operation names, with the models they use, under its class name."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ProblemDetails, "serialization")]
    for route in ROUTES:
        if route.documented and route.answer is not None:
            models.append((route.answer, "serialization"))
        if route.documented and route.body is not None:
            models.append((route.body, "validation"))
    unique = list(dict.fromkeys(models))
    _, definitions = models_json_schema(unique, ref_template=REF)
    schemas: JsonObject = definitions.get("$defs", {})
    return schemas


def _operation(route: Route, schemas: JsonObject) -> JsonObject:
    doc = (route.handler.__doc__ or "").strip()
    operation: JsonObject = {
        "tags": [route.tag],
        "summary": route.summary,
        "description": " ".join(doc.split()),
        "operationId": route.name,
    }
    if route.token:
        operation["security"] = [{"HTTPBearer": []}]
    parameters = [
        *_parameters(route.path, "path", schemas),
        *_parameters(route.query, "query", schemas),
    ]
    if route.write:
        parameters += _write_headers(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        media: JsonObject = {"schema": {"$ref": REF.format(model=route.body.__name__)}}
        if route.example is not None:
            media["example"] = route.example
        operation["requestBody"] = {"required": True, "content": {JSON_MEDIA_TYPE: media}}
    operation["responses"] = _responses(route)
    return operation


def _parameters(model: type[BaseModel] | None, where: str, schemas: JsonObject) -> list[JsonObject]:
    """One parameter per field of ``model``, with the field's schema (the models it
    names are added to ``schemas``)."""
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.get("$defs", {}))
    required = set(schema.get("required", ())) | (
        {*schema["properties"]} if where == "path" else set()
    )
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = {k: v for k, v in field_schema.items() if k not in ("title", "examples")}
        parameter: JsonObject = {"name": name, "in": where, "required": name in required}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        examples = model.model_fields[name].examples or []
        if len(examples) == 1:
            parameter["example"] = examples[0]
        elif examples:
            parameter["examples"] = {str(value): {"value": value} for value in examples}
        parameter["schema"] = _without_null(field_schema)
        parameters.append(parameter)
    return parameters


def _without_null(schema: JsonObject) -> JsonObject:
    """An optional parameter is absent, never null: ``anyOf [X, null]`` becomes X."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**kept[0], **rest}


def _responses(route: Route) -> JsonObject:
    """The success (with its ETag and links), the route's problems and the edge's; each
    may carry the RateLimit fields, except the sandbox's own unlimited pages."""
    limited = _RATE_LIMIT if route.faulted else {}
    success: JsonObject = {"description": OK_TEXT.get(route.ok, "OK")}
    if route.etag or limited:
        success["headers"] = {**(_ETAG if route.etag else {}), **limited}
    if route.links:
        success["links"] = {
            link.name: {
                "operationId": link.operation,
                "parameters": dict(link.parameters),
                "description": link.description,
            }
            for link in route.links
        }
    if route.answer is not None:
        success["content"] = _content(JSON_MEDIA_TYPE, route.answer)
    elif route.ok != 204:
        success["content"] = {JSON_MEDIA_TYPE: {"schema": {"type": "object"}}}
    responses: JsonObject = {str(route.ok): success}
    problems = set(route.problems) | ({415} if route.body is not None else set())
    for status in sorted(problems | set(EDGE_PROBLEMS)):
        if status in EDGE_PROBLEMS:
            responses[str(status)] = {"$ref": f"#/components/responses/{_edge_name(status)}"}
            continue
        described = _problem(PROBLEM_TEXT[status])
        headers = {**limited, **(_RETRY_AFTER if status in (429, 503) else {})}
        if headers:
            described = {**described, "headers": headers}
        responses[str(status)] = described
    return responses


def _edge_name(status: int) -> str:
    return title_of(status).replace(" ", "")


def _problem(description: str) -> JsonObject:
    return {"description": description, "content": _content(PROBLEM_MEDIA_TYPE, ProblemDetails)}


def _content(media_type: str, model: type[BaseModel]) -> JsonObject:
    return {media_type: {"schema": {"$ref": REF.format(model=model.__name__)}}}
