"""Fixtures of the desired-state tests; the helpers live in ``desired_support``."""

from __future__ import annotations

from pathlib import Path

import pytest
from desired_support import CONFIG, PEOPLE, Repo


@pytest.fixture
def bare_repo(tmp_path: Path) -> Repo:
    """An empty folder: no reconciler.yaml, no people.yaml, no sites."""
    return Repo(tmp_path)


@pytest.fixture
def repo(bare_repo: Repo) -> Repo:
    """A repository with reconciler.yaml (expert studio@pixel.example) and people.yaml
    (handles ``tom`` and ``anna``), and no site files yet."""
    bare_repo.write("reconciler.yaml", CONFIG)
    bare_repo.write("people.yaml", PEOPLE)
    (bare_repo.root / "sites").mkdir()
    return bare_repo
