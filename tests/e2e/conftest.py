"""End-to-end fixtures: a copy of the example repository and the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Repo, example_repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """The example repository (reconciler.yaml, people.yaml, sites/, seed) in tmp_path."""
    return example_repo(tmp_path)
