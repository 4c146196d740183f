"""Fixtures: the contract suite's target (the fake, or Duda's sandbox when asked for).

``target`` is the fake on 127.0.0.1 and, only when a person sets DUDA_SANDBOX_USER,
DUDA_SANDBOX_PASS and DUDA_SANDBOX_SITE, also Duda's sandbox host: each test then runs
against both. CI sets none of them, so it never leaves 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from duda.contract import Http, Target, fake_target, sandbox_skip_reason, sandbox_target, segment
from duda.fake import DudaFake, ManualClock

# The sandbox is a second target only when a person asks for it; otherwise one test says
# so (test_duda_contract.py), rather than every test skipping with the same sentence.
TARGETS = ["fake"] if sandbox_skip_reason() else ["fake", "sandbox"]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "sandbox":
        yield sandbox_target()
        return
    with DudaFake(clock=ManualClock()) as fake:
        yield fake_target(fake)


@pytest.fixture
def fake_only(target: Target) -> DudaFake:
    """The fake behind the target; the test is skipped on the sandbox."""
    if target.fake is None:
        pytest.skip("fake only: this checks the fake's limits on its own clock")
    return target.fake


@pytest.fixture
def http(target: Target) -> Iterator[Http]:
    client = Http(target)
    yield client
    client.close()


@pytest.fixture
def new_account(http: Http) -> Iterator[str]:
    """A name no account has yet; whatever the test created under it is deleted after."""
    name = f"reconciler-contract-{uuid.uuid4().hex[:10]}@example.com"
    yield name
    http("DELETE", f"/accounts/{segment(name)}")  # 204, or 400 when it was never created
