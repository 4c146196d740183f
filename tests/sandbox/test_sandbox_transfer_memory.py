"""How transfers end and are remembered (rules 4 and 10), and the platform's clock.

Over real HTTP through the real client; the clock is the sandbox's own (a fake base the
test moves, plus the offset that ``sandbox clock advance`` keeps in the database).
"""

from __future__ import annotations

import email.utils
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sandbox_support import ANNA, BEN, STUDIO, TOKENS, FakeClock, seed_people

from reconciler.cli import cli
from reconciler.model import EndedTransfer, PendingTransfer, TransferEnd
from reconciler.platform.client import PlatformClient
from reconciler.platform.schema import TransferStatus, to_observed
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import SandboxStore

ClientFor = Callable[[str], SandboxClient]
SITE = "acme-bakery"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # the FakeClock's start


def platform_date(response: requests.Response) -> datetime:
    return email.utils.parsedate_to_datetime(response.headers["Date"])


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


# -- a pending transfer carries its expiry; a site its last ended transfer --


def test_a_pending_transfer_expires_14_days_after_it_was_started(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    started = studio.start_transfer(SITE, ANNA, True).value
    assert (started.created_at, started.expires_at) == (START, START + timedelta(days=14))
    pending = studio.get_site(SITE).pending_transfer
    assert pending is not None
    assert pending.expires_at == datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
    assert to_observed(studio.get_site(SITE)).pending_transfer == PendingTransfer(
        id=started.id,
        to=ANNA,
        stay_as_collaborator=True,
        created_at=START,
        expires_at=START + timedelta(days=14),
    )


def test_a_site_without_ended_transfers_has_no_last_transfer(client_for: ClientFor) -> None:
    studio = client_for(STUDIO)
    studio.start_transfer(SITE, ANNA, True)
    assert studio.get_site(SITE).last_transfer is None
    assert [site.last_transfer for site in studio.iter_sites()] == [None]


@pytest.mark.parametrize("ending", ["declined", "cancelled", "expired", "accepted"])
def test_the_site_remembers_how_and_when_its_last_transfer_ended(
    client_for: ClientFor, clock: FakeClock, ending: str
) -> None:
    studio, anna = client_for(STUDIO), client_for(ANNA)
    transfer = studio.start_transfer(SITE, ANNA, True).value
    clock.advance(days=2)
    if ending == "declined":
        anna.decline_transfer(transfer.id)
    elif ending == "cancelled":
        studio.cancel_transfer(SITE, transfer.id)
    elif ending == "accepted":
        anna.accept_transfer(transfer.id)
    else:
        clock.advance(days=20)  # it ended when it expired, not when someone looked
    ended_at = START + timedelta(days=14 if ending == "expired" else 2)
    expected = EndedTransfer(
        id=transfer.id,
        to=ANNA,
        stay_as_collaborator=True,
        status=TransferEnd(ending),
        created_at=START,
        ended_at=ended_at,
    )
    # In the listing and alone, and in the model the planner reads.
    [listed] = studio.iter_sites()
    alone = studio.get_site(SITE)
    assert listed.pending_transfer is None
    assert alone.pending_transfer is None
    assert to_observed(listed).last_transfer == expected
    assert to_observed(alone).last_transfer == expected


def test_the_last_transfer_is_the_latest_to_end(client_for: ClientFor, clock: FakeClock) -> None:
    studio = client_for(STUDIO)
    first = studio.start_transfer(SITE, ANNA, True).value
    client_for(ANNA).decline_transfer(first.id)
    clock.advance(days=1)
    second = studio.start_transfer(SITE, BEN, False).value
    clock.advance(days=1)
    studio.cancel_transfer(SITE, second.id)
    third = studio.start_transfer(SITE, ANNA, False).value
    site = studio.get_site(SITE)
    assert site.pending_transfer is not None
    assert site.pending_transfer.id == third.id
    assert site.last_transfer is not None
    assert (site.last_transfer.id, site.last_transfer.status) == (second.id, TransferEnd.CANCELLED)
    assert site.last_transfer.ended_at == START + timedelta(days=2)


def test_answers_to_a_transfer_say_when_it_ended(client_for: ClientFor, clock: FakeClock) -> None:
    transfer = client_for(STUDIO).start_transfer(SITE, ANNA, True).value
    assert transfer.ended_at is None
    clock.advance(hours=5)
    declined = client_for(ANNA).decline_transfer(transfer.id).value
    assert (declined.status, declined.ended_at) == (
        TransferStatus.DECLINED,
        START + timedelta(hours=5),
    )


# -- the platform's clock: Date header, stored offset, CLI --


def test_every_answer_is_dated_by_the_platforms_clock(
    sandbox: ThreadedSandbox, clock: FakeClock
) -> None:
    clock.advance(days=100)
    headers = {"Authorization": f"Bearer {TOKENS[STUDIO]}"}
    for path in ("/v1/me", f"/v1/sites/{SITE}", "/v1/nothing-here", "/openapi.json"):
        response = requests.get(sandbox.url + path, headers=headers, timeout=10)
        assert platform_date(response) == START + timedelta(days=100), path
        assert len(response.raw.headers.getlist("Date")) == 1, path
    refused = requests.get(sandbox.url + "/v1/me", timeout=10)
    assert refused.status_code == 401
    assert platform_date(refused) == START + timedelta(days=100)


def test_the_client_reads_the_platforms_time_from_the_date_header(
    sandbox: ThreadedSandbox, clock: FakeClock
) -> None:
    with PlatformClient(sandbox.url, TOKENS[STUDIO]) as client:
        assert client.platform_time() is None
        client.me()
        assert client.platform_time() == START
        sandbox.store.advance_clock(3)
        client.get_site(SITE)
        assert client.platform_time() == START + timedelta(days=3)


def test_clock_advance_on_the_file_is_seen_by_a_served_sandbox(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    clock = FakeClock()  # the base clock stands still: only the stored offset moves
    with ThreadedSandbox(db, clock=clock) as served:
        seed_people(served)
        studio = SandboxClient(served.url, TOKENS[STUDIO])
        studio.start_transfer(SITE, ANNA, True)
        before = studio.platform_time()
        assert before is not None
        code, output = run_cli("sandbox", "clock", "advance", "14", "--db", str(db))
        assert code == 0, output
        assert output.startswith("sandbox clock advanced 14 days, to ")
        site = studio.get_site(SITE)
        assert site.pending_transfer is None
        assert site.last_transfer is not None
        assert site.last_transfer.status is TransferEnd.EXPIRED
        now = studio.platform_time()
        assert now is not None
        assert timedelta(days=14) <= now - before < timedelta(days=14, minutes=1)
        studio.close()
    # The offset is kept in the file: a new sandbox on it starts at the moved time.
    with SandboxStore(db, clock=clock) as store:
        assert store.now() - clock() > timedelta(days=13, hours=23)


def test_clock_advance_refuses_a_missing_database_and_a_bad_number(tmp_path: Path) -> None:
    code, output = run_cli("sandbox", "clock", "advance", "3", "--db", str(tmp_path / "no.db"))
    assert code == 1
    assert f"no sandbox database at {tmp_path / 'no.db'}" in output
    code, output = run_cli("sandbox", "clock", "advance", "0", "--db", str(tmp_path / "x.db"))
    assert code != 0
    assert "Invalid value for 'DAYS'" in output


def test_a_database_of_an_older_sandbox_gains_the_end_of_its_transfers(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = sqlite3.connect(db)
    old.executescript(
        """
        CREATE TABLE transfers (
            id TEXT PRIMARY KEY, site_id TEXT NOT NULL, from_owner TEXT NOT NULL,
            to_email TEXT NOT NULL, stay_as_collaborator INTEGER NOT NULL,
            status TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL
        );
        INSERT INTO transfers VALUES ('tr_1', 'acme-bakery', 'studio@pixel.example',
            'anna@acme-bakery.example', 1, 'expired', '2025-03-01T09:00:00.000000Z',
            '2025-03-15T09:00:00.000000Z');
        """
    )
    old.commit()
    old.close()
    with SandboxStore(db) as store:
        [transfer] = store.transfers_of("acme-bakery")
    assert transfer.ended_at == datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
