"""Fixtures: a small repository in a temporary folder, a fake GitHub on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import FakeGitHub, serving
from git_support import CONFIG, GitRepo

from reconciler.review.gitrepo import GitRepository


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository with reconciler.yaml and one commit by alice."""
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", CONFIG)
    made.site("acme-bakery", collaborators={"tom@freelance.example": "viewer"})
    made.site("bistro-verde")
    made.commit("Start managing the sites")
    return made


@pytest.fixture
def opened(repo: GitRepo) -> Iterator[GitRepository]:
    with GitRepository.open(repo.root) as repository:
        yield repository


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serving(FakeGitHub()) as fake:
        yield fake
