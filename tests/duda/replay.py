"""Duda's documented example answers (fixtures/*.json), for replay with ``responses``.

Each fixture is one answer from Duda's documentation or typed client, with its source:
``{"source", "url", "method", "path", "status", "body"}`` (``body`` null for a 204).
``path`` is the documented template, e.g. ``/accounts/{account_name}``. A test of the
adapter's parsing replays it where the adapter will ask:

    with responses.RequestsMock() as mock:
        replay(mock, fixture("get_permissions"), BASE, account_name="ann@x.example",
               site_name="6c56394c")
        ...  # the adapter reads BASE + "/accounts/ann@x.example/sites/6c56394c/permissions"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import responses

from duda.contract import segment

FIXTURES = Path(__file__).with_name("fixtures")


@dataclass(frozen=True)
class Fixture:
    name: str
    source: str
    url: str
    method: str
    path: str
    status: int
    body: Any

    def path_with(self, **params: str | int) -> str:
        return self.path.format(**{key: segment(str(value)) for key, value in params.items()})


@cache
def fixture(name: str) -> Fixture:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return Fixture(name=name, **data)


def fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


def replay(
    mock: responses.RequestsMock, answer: Fixture, base_url: str, **params: str | int
) -> None:
    """Answer ``answer`` to its method at ``base_url`` + its path, filled with ``params``."""
    url = base_url.rstrip("/") + answer.path_with(**params)
    if answer.body is None:
        mock.add(answer.method, url, status=answer.status)
    else:
        mock.add(answer.method, url, json=answer.body, status=answer.status)
