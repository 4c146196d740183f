"""What the contract suite talks to, and how: raw HTTP, paced as Duda asks.

A ``Target`` is the fake on 127.0.0.1 (the default) or Duda's sandbox host, when a person
sets ``DUDA_SANDBOX_USER``, ``DUDA_SANDBOX_PASS`` and ``DUDA_SANDBOX_SITE``. The tests see
only the target: the same tests run against both. ``Http`` paces itself at one request
every 125 ms (Duda's advice for batch jobs) through the target's sleeper, which on the fake
moves the fake's clock instead of waiting.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from duda.fake import DudaFake, ManualClock

SANDBOX_URL = "https://api-sandbox.duda.co/api"
SANDBOX_ENV = ("DUDA_SANDBOX_USER", "DUDA_SANDBOX_PASS", "DUDA_SANDBOX_SITE")
PACE = 0.125  # seconds between requests: Duda's "one every 125ms (8 a second)"
CONTRACT_SITE = "contract-site"  # the fake's stand-in for DUDA_SANDBOX_SITE
FAKE_SITES = (CONTRACT_SITE, "bakery-2", "gym-3", "florist-4", "garage-5")  # three pages of 2


@dataclass
class Target:
    name: str  # "fake" or "sandbox"
    url: str
    user: str
    password: str
    site: str  # a site the suite may change, and restores
    sleep: Callable[[float], None]
    fake: DudaFake | None = None

    @property
    def clock(self) -> ManualClock:
        """The fake's clock (fake-only tests)."""
        assert self.fake is not None
        assert isinstance(self.fake.clock, ManualClock)
        return self.fake.clock


def missing_sandbox_settings() -> list[str]:
    return [name for name in SANDBOX_ENV if not os.environ.get(name)]


def sandbox_skip_reason() -> str | None:
    missing = missing_sandbox_settings()
    if not missing:
        return None
    return (
        f"Duda's sandbox host not contacted: set {', '.join(missing)} to run the contract "
        f"suite against {SANDBOX_URL} too, with a site of yours that it may change and "
        "restores (tests/duda/README.md)"
    )


def sandbox_target() -> Target:
    return Target(
        name="sandbox",
        url=os.environ.get("DUDA_SANDBOX_URL", SANDBOX_URL).rstrip("/"),
        user=os.environ["DUDA_SANDBOX_USER"],
        password=os.environ["DUDA_SANDBOX_PASS"],
        site=os.environ["DUDA_SANDBOX_SITE"],
        sleep=time.sleep,
    )


def fake_target(fake: DudaFake) -> Target:
    fake.state.add_plan(1, "FREE")
    fake.state.add_plan(2, "PREMIUM")
    fake.state.add_sites(FAKE_SITES)
    assert isinstance(fake.clock, ManualClock)
    return Target("fake", fake.url, fake.user, fake.password, CONTRACT_SITE, fake.clock.sleep, fake)


def segment(value: str) -> str:
    """A path segment: account names are e-mail addresses, sent with their ``@`` as Duda's
    own examples send them."""
    return quote(value, safe="@")


class Http:
    """Requests to the target, one every ``PACE`` seconds. On the sandbox a 429 (the limit
    is the partner account's, shared with anything else using it) is waited out."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.session = requests.Session()
        self.session.auth = (target.user, target.password)
        # D README: "All endpoints require a user-agent header to be present".
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "site-reconciler-contract-suite"}
        )

    def close(self) -> None:
        self.session.close()

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, int] | None = None,
        auth: tuple[str, str] | None = None,
        paced: bool = True,
    ) -> requests.Response:
        for _attempt in range(4):
            if paced:
                self.target.sleep(PACE)
            response = self.session.request(
                method,
                self.target.url + path,
                json=json,
                params=params,
                auth=auth,
                timeout=30,
            )
            if response.status_code != 429 or self.target.fake is not None:
                return response
            self.target.sleep(1.0)
        return response


def granted(body: Any) -> set[str]:
    """An account's permissions on a site, in either documented shape (DUDA_API.md):
    ``{"permissions": [...]}`` (Duda's documentation) or a bare list (its client's test)."""
    names = body["permissions"] if isinstance(body, dict) else body
    assert isinstance(names, list), body
    assert all(isinstance(name, str) for name in names), body
    return set(names)


def plan_id(body: Any) -> int:
    """A plan's id, under ``planId`` (documentation, client type) or ``planID`` (test)."""
    assert isinstance(body, dict), body
    value = body.get("planId", body.get("planID"))
    assert isinstance(value, int), body
    return value
