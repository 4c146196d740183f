"""The loader's composer resolves every scalar to the tag ruamel's CSafeLoader gives it
(YAML 1.2: null, bool, int, float, timestamp, merge, text), plain or quoted, while it
answers text at once for a scalar that no rule applies to."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.error import YAMLError

from reconciler.desired import loader

SCALARS = [
    "", "~", "null", "Null", "NULL", "nul", "true", "True", "TRUE", "false", "False",
    "yes", "No", "on", "off", "y", "n", "0", "-1", "+1", "007", "0o17", "0x1f", "0b11",
    "1_000", "1.5", "-.5", "+.5", "1.", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1e3",
    "-1E-3", "2024-01-01", "2024-01-01T10:00:00Z", "2024-1-1 10:00", "=", "<<", "<",
    "'true'", '"1"', "'~'", '""', "anna@acme.example", "editor", "Acme Bakery 5",
    "tom", "expert", "free", "premium", "!!str 1", "!!int 1", "- x", "[1, 2]",
    "{a: 1}", "é", "1:2", "12:30", "+", "-", ".", "-x", ".x", "0.0.1", "nine",
]  # fmt: skip


def _tags(loader_class: Any, text: str) -> Any:
    composer = loader_class(text)
    try:
        node = composer.get_single_node()
    except YAMLError as exc:
        return type(exc)
    finally:
        composer.dispose()
    return [(str(key.tag), str(value.tag)) for key, value in node.value]


@pytest.mark.parametrize("scalar", SCALARS)
def test_every_scalar_has_the_tag_ruamel_gives_it(scalar: str) -> None:
    text = f"key: {scalar}\n{scalar or 'x'}: key\n"

    assert _tags(loader._Loader, text) == _tags(CSafeLoader, text)
