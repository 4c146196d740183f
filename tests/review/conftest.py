"""Fixtures: a small repository in a temporary folder, a fake GitHub on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from git_support import CONFIG, FakeGitHub, GitRepo, handler_for

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
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
