"""The sandbox's rules under random sequences of writes, through the real client.

A hypothesis state machine plays four accounts against two sites over HTTP: grants,
removals, transfers and the answers to them, cancels, purchases, replays of a write
with the same idempotency key, and writes with a stale If-Match. After every step the
platform's rules must hold: one owner per site, at most one pending transfer, no more
collaborators than the package allows, invoices only for purchases the owner made,
and a replayed key that never acts twice.

Bounded to run in seconds (20 sequences of 20 steps, derandomized); to search harder,
``STATEFUL_EXAMPLES=500 pytest tests/sandbox/test_sandbox_stateful.py``.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sandbox_support import ANNA, BEN, RIVAL, STUDIO, TOKENS, seed_people

from reconciler.model import COLLABORATOR_CAP, Package, Role
from reconciler.platform.errors import PlatformError
from reconciler.platform.schema import TransferStatus
from reconciler.platform.transport import RetryPolicy
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox

ACCOUNTS = (STUDIO, ANNA, BEN, RIVAL)
TOM = "tom@freelance.example"  # an address without an account
SITES = 2
_runs = itertools.count()

accounts = st.sampled_from(ACCOUNTS)
# Mostly the account that may act (the owner; the recipient for answers), so that
# sequences get far; sometimes anyone, so that refusals are exercised too.
ENTITLED = "entitled"
actors = st.one_of(st.just(ENTITLED), st.just(ENTITLED), accounts)
emails = st.sampled_from((*ACCOUNTS, TOM))
site_numbers = st.integers(0, SITES - 1)


@dataclass
class Outcome:
    """What a write answered: its value's version, or its error's status and detail."""

    version: int | None = None
    status: int | None = None
    detail: str | None = None


@dataclass
class Write:
    """A write as sent, to send again with the same idempotency key."""

    site: str
    send: Callable[[str], Any]  # idempotency key -> result
    key: str
    outcome: Outcome


class SandboxRules(RuleBasedStateMachine):
    def __init__(self, sandbox: ThreadedSandbox, clients: dict[str, SandboxClient]) -> None:
        super().__init__()
        self.store = sandbox.store
        self.clients = clients
        run = next(_runs)
        self.sites = [f"run{run}-site{n}" for n in range(SITES)]
        with self.store.transaction() as tx:
            tx.insert_sites(
                (site, site, STUDIO, STUDIO, Package.FREE, None, {}) for site in self.sites
            )
        self.purchases: dict[str, list[str]] = {site: [] for site in self.sites}
        self.last: Write | None = None

    # -- how every write is sent --

    def _write(self, number: int, actor: str, send: Callable[[SandboxClient, str], Any]) -> None:
        site = self.sites[number]
        client = self.clients[self._who(number, actor)]
        key = f"stateful-{uuid.uuid4()}"
        outcome = _outcome(lambda: send(client, key))
        self.last = Write(site, lambda again: send(client, again), key, outcome)

    # -- rules --

    @rule(number=site_numbers, actor=actors, email=emails, role=st.sampled_from(Role))
    def grant(self, number: int, actor: str, email: str, role: Role) -> None:
        site = self.sites[number]
        self._write(
            number, actor, lambda c, key: c.put_collaborator(site, email, role, idempotency_key=key)
        )

    @rule(number=site_numbers, actor=actors, email=emails)
    def remove(self, number: int, actor: str, email: str) -> None:
        site = self.sites[number]
        self._write(
            number, actor, lambda c, key: c.delete_collaborator(site, email, idempotency_key=key)
        )

    @rule(number=site_numbers, actor=actors, to=emails, stay=st.booleans())
    def transfer(self, number: int, actor: str, to: str, stay: bool) -> None:
        site = self.sites[number]
        self._write(
            number, actor, lambda c, key: c.start_transfer(site, to, stay, idempotency_key=key)
        )

    @rule(number=site_numbers, actor=actors, accept=st.booleans())
    def respond(self, number: int, actor: str, accept: bool) -> None:
        transfer = self._pending_or_last(number)
        actor = self._who(number, actor, recipient=True)

        def send(c: SandboxClient, key: str) -> Any:
            answer = c.accept_transfer if accept else c.decline_transfer
            return answer(transfer, idempotency_key=key)

        self._write(number, actor, send)

    @rule(number=site_numbers, actor=actors)
    def cancel(self, number: int, actor: str) -> None:
        site, transfer = self.sites[number], self._pending_or_last(number)
        self._write(
            number, actor, lambda c, key: c.cancel_transfer(site, transfer, idempotency_key=key)
        )

    @rule(number=site_numbers, actor=actors, package=st.sampled_from(Package))
    def purchase(self, number: int, actor: str, package: Package) -> None:
        site = self.sites[number]
        owner = self.store.site(site).owner
        actor = self._who(number, actor)
        self._write(number, actor, lambda c, key: c.purchase(site, package, idempotency_key=key))
        assert self.last is not None
        if self.last.outcome.status is None:  # it went through: the caller must own the site
            assert actor == owner, f"{actor} bought a package for {owner}'s site"
            self.purchases[site].append(actor)

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay(self) -> None:
        """The same write with the same key: the first answer again, nothing done twice."""
        assert self.last is not None
        before = self._state(self.last.site)
        again = _outcome(lambda: self.last.send(self.last.key))  # type: ignore[union-attr]
        assert again == self.last.outcome
        assert self._state(self.last.site) == before

    @rule(number=site_numbers, actor=actors, email=emails, behind=st.integers(1, 3))
    def stale_write(self, number: int, actor: str, email: str, behind: int) -> None:
        """A write based on a version the site is no longer at changes nothing."""
        site = self.sites[number]
        current = self.store.site(site)
        actor = self._who(number, actor)
        before = self._state(site)
        stale = current.version + behind if behind == 3 else current.version - behind
        answer = _outcome(
            lambda: self.clients[actor].put_collaborator(site, email, Role.VIEWER, if_match=stale)
        )
        if actor == current.owner or actor in current.collaborators:
            assert answer.status == 412, answer
        else:  # an account that may not see the site learns nothing more about it
            assert answer.status == 404, answer
        assert self._state(site) == before

    # -- what must hold after every step --

    @invariant()
    def every_site_has_one_owner_and_keeps_the_rules(self) -> None:
        for site_id in self.sites:
            site = self.store.site(site_id)
            assert site.owner in ACCOUNTS
            assert site.owner not in site.collaborators
            transfers = self.store.transfers_of(site_id)
            assert sum(t.status is TransferStatus.PENDING for t in transfers) <= 1
            assert len(site.collaborators) <= COLLABORATOR_CAP[site.package], site
            invoices = self.store.invoices_of(site_id)
            assert [i.billed_to for i in invoices] == self.purchases[site_id]

    # -- helpers --

    def _who(self, number: int, actor: str, *, recipient: bool = False) -> str:
        if actor != ENTITLED:
            return actor
        site = self.store.site(self.sites[number])
        pending = site.pending_transfer
        return pending.to if recipient and pending is not None else site.owner

    def _pending_or_last(self, number: int) -> str:
        """The site's pending transfer, else its latest one, else an id that names none."""
        transfers = self.store.transfers_of(self.sites[number])
        pending = [t.id for t in transfers if t.status is TransferStatus.PENDING]
        return (pending or [t.id for t in transfers[-1:]] or ["tr-none"])[0]

    def _state(self, site_id: str) -> tuple[Any, ...]:
        return (
            self.store.site(site_id),
            self.store.transfers_of(site_id),
            self.store.invoices_of(site_id),
        )


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        result = call()
    except PlatformError as error:
        return Outcome(status=error.status, detail=error.detail)
    return Outcome(version=result.version)


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[tuple[ThreadedSandbox, dict[str, SandboxClient]]]:
    with ThreadedSandbox(tmp_path / "sandbox.db") as sandbox:
        seed_people(sandbox)
        retry = RetryPolicy(max_attempts=1)  # the first answer, as the rules give it
        made = {email: SandboxClient(sandbox.url, TOKENS[email], retry=retry) for email in ACCOUNTS}
        yield sandbox, made
        for client in made.values():
            client.close()


def test_the_sandbox_keeps_its_rules_under_random_operations(
    clients: tuple[ThreadedSandbox, dict[str, SandboxClient]],
) -> None:
    sandbox, by_account = clients
    run_state_machine_as_test(
        lambda: SandboxRules(sandbox, by_account),  # type: ignore[arg-type]  # a factory works
        settings=settings(
            max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "20")),
            stateful_step_count=20,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
