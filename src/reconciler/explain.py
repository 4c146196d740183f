"""pydantic's validation errors said in the terms of the files a user writes.

One wording for every file: site files, reconciler.yaml and a platform kind's block of
it (which the kind's factory checks, see ``platform/kinds.py``), so that "unknown key",
"missing required key" and "must be a mapping" read the same wherever they come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Explained:
    """One problem: its message, and where it points (the key or the value at ``at``)."""

    message: str
    at: Path_
    at_key: bool = False


def explain_errors(
    model: type[BaseModel], exc: ValidationError, prefix: Path_ = ()
) -> list[Explained]:
    """Every error of validating ``model`` (found at ``prefix`` of its file), explained."""
    return [_explained(model, error, prefix) for error in exc.errors(include_url=False)]


def _explained(model: type[BaseModel], error: Any, prefix: Path_) -> Explained:
    path: Path_ = (*prefix, *error["loc"])
    kind = error["type"]
    dotted = ".".join(str(part) for part in path) or "the file"
    if kind == "extra_forbidden":
        hint = allowed_keys_hint(model, error["loc"])
        return Explained(f"unknown key {dotted!r}; {hint}", path, at_key=True)
    if kind == "missing":
        return Explained(f"missing required key {dotted!r}", path[:-1])
    return Explained(f"{dotted}: {explain(error)}", path)


def allowed_keys_hint(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """Name the keys allowed beside an unknown one, when the model says which they are."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part)) if current is not None else None
        current = None if field is None else _model_in(field.annotation)
    if current is None:
        return "check the spelling"
    return f"check the spelling (allowed: {', '.join(current.model_fields)})"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model in an annotation such as ``Policy`` or ``Policy | None``."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def explain(error: Any) -> str:
    """What is wrong with one value, without where it is."""
    kind = error["type"]
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{_enum_input(error['input'])} is not allowed; use {expected}"
    if kind == "string_pattern_mismatch":
        return (
            f"{error['input']!r} is not a valid site id; use lower-case letters, digits "
            "and hyphens (at most 63)"
        )
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "greater_than_equal":
        return f"must be {error.get('ctx', {}).get('ge')} or more, not {describe(error['input'])}"
    if kind.startswith(("date_", "datetime_")):
        return f"must be a date such as 2026-11-27, not {describe(error['input'])}"
    if kind in ("string_type", "dict_type", "model_type"):
        wanted = {"string_type": "text", "dict_type": "a mapping", "model_type": "a mapping"}
        return f"must be {wanted[kind]}, not {describe(error['input'])}"
    return str(error["msg"]).removeprefix("Value error, ")


def _enum_input(value: Any) -> str:
    return "an empty value" if value is None else describe(value)


def describe(value: Any) -> str:
    """A value as a message names it: "empty", "a list", "the boolean true", ``'x'``."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value!r}"
