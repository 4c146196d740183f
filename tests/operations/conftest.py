"""Fixtures: a small repository with reconciler.yaml and people.yaml in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from adopt_support import Repo, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """reconciler.yaml (expert studio@pixel.example), people.yaml (``tom``, ``anna``),
    an empty sites/ and no sandbox seed yet."""
    return make_repo(tmp_path / "repo")
