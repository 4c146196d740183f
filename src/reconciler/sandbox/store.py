"""SQLite storage of the sandbox, and the platform rules (DESIGN.md section 2) it enforces.

One connection guarded by a lock serves every thread of a threaded server; every
operation runs in one transaction (``BEGIN IMMEDIATE``), so a write is all or nothing
and its idempotency record is stored with it. Rules refuse a request by raising
:class:`Refusal`, which the app turns into an ``application/problem+json`` answer.
"""

from __future__ import annotations

import base64
import re
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from reconciler.errors import ReconcilerError
from reconciler.model import (
    COLLABORATOR_CAP,
    AccountKind,
    BillingPeriod,
    Package,
    PackagePrice,
    Role,
    constructed,
    normalise_email,
)
from reconciler.platform.schema import (
    Account,
    Invoice,
    LastTransfer,
    Purchase,
    Site,
    SitePage,
    TokenScope,
    Transfer,
    TransferDirection,
    TransferEnd,
    TransferPage,
    TransferStatus,
)

Clock = Callable[[], datetime]

TRANSFER_LIFETIME = timedelta(days=14)
_UNIT = "unit"  # the savepoint of a transaction inside a batch
_TRANSFER_COLUMNS = (
    "id, site_id, from_owner, to_email, stay_as_collaborator, status, created_at,"
    " expires_at, ended_at"
)
_MIGRATIONS = (
    # Databases made before the platform remembered when a transfer ended.
    ("transfers", "ended_at", "ALTER TABLE transfers ADD COLUMN ended_at TEXT",
     "UPDATE transfers SET ended_at = CASE status WHEN 'expired' THEN expires_at"
     " ELSE created_at END WHERE status != 'pending'"),
    # Databases made before sites, invoices and purchases carried money (their paid
    # packages were bought at the list price, which was in euros).
    ("sites", "price_cents", "ALTER TABLE sites ADD COLUMN price_cents INTEGER",
     "ALTER TABLE sites ADD COLUMN price_currency TEXT",
     "ALTER TABLE sites ADD COLUMN price_period TEXT",
     "UPDATE sites SET price_cents = 11880, price_currency = 'EUR', price_period = 'year'"
     " WHERE package != 'free'"),
    ("invoices", "currency",
     "ALTER TABLE invoices ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR'"),
    ("purchases", "currency",
     "ALTER TABLE purchases ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR'"),
)  # fmt: skip
PERIOD_LENGTH = {BillingPeriod.YEAR: timedelta(days=365), BillingPeriod.MONTH: timedelta(days=30)}
"""How long a paid period lasts in the sandbox (a month is 30 days here)."""
LIST_PRICE = {
    Package.PREMIUM: PackagePrice(amount_cents=11_880, currency="EUR", period=BillingPeriod.YEAR)
}
"""What the platform charges for a package bought through the API; a seeded site may be
on another price (another currency, monthly)."""
NO_VERSION = -1
"""What an If-Match that names no possible version stands for: it matches none."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    email TEXT PRIMARY KEY, kind TEXT NOT NULL, token TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS read_tokens (
    token TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL,
    billing_contact TEXT NOT NULL, package TEXT NOT NULL, package_paid_until TEXT,
    version INTEGER NOT NULL, price_cents INTEGER, price_currency TEXT, price_period TEXT
);
CREATE INDEX IF NOT EXISTS sites_by_owner ON sites (owner, id);
CREATE TABLE IF NOT EXISTS collaborators (
    site_id TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (site_id, email)
);
CREATE INDEX IF NOT EXISTS collaborators_by_email ON collaborators (email, site_id);
-- Covering: a site's collaborators, with their roles, without a lookup of each row (a
-- page of 500 sites reads a thousand of them; issue 20).
CREATE INDEX IF NOT EXISTS collaborators_by_site ON collaborators (site_id, email, role);
CREATE TABLE IF NOT EXISTS transfers (
    id TEXT PRIMARY KEY, site_id TEXT NOT NULL, from_owner TEXT NOT NULL,
    to_email TEXT NOT NULL, stay_as_collaborator INTEGER NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT
);
CREATE INDEX IF NOT EXISTS transfers_by_status ON transfers (status, site_id);
CREATE INDEX IF NOT EXISTS transfers_by_site ON transfers (site_id, created_at);
CREATE INDEX IF NOT EXISTS transfers_by_sender ON transfers (from_owner, created_at, id);
CREATE INDEX IF NOT EXISTS transfers_by_recipient ON transfers (to_email, created_at, id);
CREATE TABLE IF NOT EXISTS purchases (
    id TEXT PRIMARY KEY, site_id TEXT NOT NULL, package TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, paid_by TEXT NOT NULL, invoice_id TEXT NOT NULL,
    created_at TEXT NOT NULL, currency TEXT NOT NULL DEFAULT 'EUR'
);
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY, site_id TEXT NOT NULL, billed_to TEXT NOT NULL,
    package TEXT NOT NULL, amount_cents INTEGER NOT NULL, issued_at TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'EUR'
);
CREATE INDEX IF NOT EXISTS invoices_by_site ON invoices (site_id);
-- Who sees which site (its owner and its collaborators), kept by triggers: the listing
-- is one range of this primary key, in the order of the page (DESIGN section 6: a page
-- costs the same at the first and the last cursor of 100,000 sites).
CREATE TABLE IF NOT EXISTS access (
    email TEXT NOT NULL, site_id TEXT NOT NULL, PRIMARY KEY (email, site_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS access_of_new_site AFTER INSERT ON sites BEGIN
    INSERT OR IGNORE INTO access (email, site_id) VALUES (NEW.owner, NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS access_of_new_owner AFTER UPDATE OF owner ON sites
WHEN OLD.owner != NEW.owner BEGIN
    DELETE FROM access WHERE email = OLD.owner AND site_id = OLD.id AND NOT EXISTS
        (SELECT 1 FROM collaborators WHERE site_id = OLD.id AND email = OLD.owner);
    INSERT OR IGNORE INTO access (email, site_id) VALUES (NEW.owner, NEW.id);
END;
CREATE TRIGGER IF NOT EXISTS access_of_new_collaborator AFTER INSERT ON collaborators BEGIN
    INSERT OR IGNORE INTO access (email, site_id) VALUES (NEW.email, NEW.site_id);
END;
CREATE TRIGGER IF NOT EXISTS access_of_gone_collaborator AFTER DELETE ON collaborators BEGIN
    DELETE FROM access WHERE email = OLD.email AND site_id = OLD.site_id AND NOT EXISTS
        (SELECT 1 FROM sites WHERE id = OLD.site_id AND owner = OLD.email);
END;
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT, etag INTEGER, created_at TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
"""


class SandboxError(ReconcilerError):
    """A sandbox command cannot be carried out (e.g. no pending transfer to accept)."""


class Refusal(Exception):
    """A request refused by a platform rule; becomes a problem answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def not_found(detail: str) -> Refusal:
    return Refusal(404, "Not Found", detail)


def forbidden(detail: str) -> Refusal:
    return Refusal(403, "Forbidden", detail)


def conflict(detail: str) -> Refusal:
    return Refusal(409, "Conflict", detail)


def unprocessable(detail: str) -> Refusal:
    return Refusal(422, "Unprocessable Content", detail)


@dataclass(frozen=True)
class Grant:
    """What a token allows: acting as ``account``, within ``scope`` (platform rule 11)."""

    account: Account
    scope: TokenScope


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept under an idempotency key, replayed verbatim to a retry."""

    status: int
    body: str | None
    etag: int | None


def utc_now() -> datetime:
    return datetime.now(UTC)


def _to_text(moment: datetime) -> str:
    """A fixed-width UTC text, so that SQLite compares moments as strings."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    if utc.year >= 1000:  # strftime's text, without strftime's cost (%Y pads no further)
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from_text(text: str) -> datetime:
    # _to_text's fixed form is ISO 8601, which fromisoformat reads (with its Z, since
    # 3.11) at a hundredth of strptime's cost, and without importing _strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def encode_cursor(after_site_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{after_site_id}".encode()).decode().rstrip("=")


CURSOR_PREFIX = "YWZ0ZXI6"  # "after:" in base64url: every cursor starts so
CURSOR_PATTERN = f"^{CURSOR_PREFIX}[A-Za-z0-9_-]*$"


def decode_cursor(cursor: str) -> str:
    """The site id a cursor continues after.

    A cursor is a position in the order of ids, so any cursor of the documented form
    (:data:`CURSOR_PATTERN`) is one, even one this API never gave out; only another
    form is a 422.
    """
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise unprocessable("The cursor is not one this API gave out; list again without a cursor.")
    rest = cursor.removeprefix(CURSOR_PREFIX)
    rest = rest[: len(rest) - len(rest) % 4 % 3]  # a lone trailing character holds no byte
    raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))
    return raw.decode("utf-8", "replace")


_TRANSFER_CURSOR = "transfers before: "  # 18 bytes: its base64url is a prefix of its own
TRANSFER_CURSOR_PREFIX = "dHJhbnNmZXJzIGJlZm9yZTog"
TRANSFER_CURSOR_PATTERN = f"^{TRANSFER_CURSOR_PREFIX}[A-Za-z0-9_-]*$"


def encode_transfer_cursor(transfer: Transfer) -> str:
    text = f"{_TRANSFER_CURSOR}{_to_text(transfer.created_at)} {transfer.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_transfer_cursor(cursor: str) -> tuple[str, str]:
    """The (created_at, id) a transfers cursor continues before.

    Like a sites cursor, any cursor of the documented form (:data:`TRANSFER_CURSOR_PATTERN`)
    is a position in the order, even one this API never gave out; another form is 422.
    """
    if re.fullmatch(TRANSFER_CURSOR_PATTERN, cursor) is None:
        raise unprocessable("The cursor is not one this API gave out; list again without a cursor.")
    rest = cursor.removeprefix(TRANSFER_CURSOR_PREFIX)
    rest = rest[: len(rest) - len(rest) % 4 % 3]  # a lone trailing character holds no byte
    text = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4)).decode("utf-8", "replace")
    created_at, _, transfer_id = text.partition(" ")
    return created_at, transfer_id


def new_token() -> str:
    return "sbx_" + secrets.token_urlsafe(24)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class SandboxStore:
    """The sandbox's database; thread-safe, one transaction per operation."""

    def __init__(self, db_path: Path, *, clock: Clock | None = None) -> None:
        self.db_path = Path(db_path)
        self.clock: Clock = clock or utc_now
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._batch: _Batch | None = None  # see batch()
        # One connection shared by the server's threads; the lock serialises its use.
        try:
            self._conn = sqlite3.connect(
                self.db_path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA cache_size=-32768")  # 32 MiB: 100,000 sites stay hot
            self._conn.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.OperationalError as exc:  # cannot open, locked, read-only...
            raise SandboxError(f"cannot use the sandbox database {self.db_path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # not a database at all
            self._conn.close()
            raise SandboxError(
                f"{self.db_path} is not a usable sandbox database ({exc}); delete it to "
                "start afresh (the embedded sandbox re-creates it from sandbox.seed.yaml)"
            ) from None

    def _migrate(self) -> None:
        """Add what a database made by an older sandbox lacks."""
        for table, column, *statements in _MIGRATIONS:
            columns = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                for statement in statements:
                    self._conn.execute(statement)
        # After the migrations: a database of an older sandbox gains the column first.
        self._conn.execute(
            "CREATE INDEX IF NOT EXISTS sites_by_renewal ON sites (package_paid_until)"
            " WHERE price_cents IS NOT NULL"
        )
        if self._conn.execute("SELECT 1 FROM access LIMIT 1").fetchone() is None:
            # Made before the access index, or empty: fill it from the sites (no-op if empty).
            self._conn.execute(
                "INSERT OR IGNORE INTO access (email, site_id)"
                " SELECT owner, id FROM sites UNION ALL SELECT email, site_id FROM collaborators"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def now(self) -> datetime:
        """The platform's clock: the base clock plus the offset stored in the database.

        Read from the database every time, so that ``sandbox clock advance`` run against
        the file is seen at once by a sandbox serving it.
        """
        with self._lock:
            return self.clock() + _clock_offset(self._conn)

    def advance_clock(self, days: float) -> datetime:
        """Move the platform's clock ``days`` forward; returns the new time."""
        with self.transaction() as tx:
            offset = _clock_offset(self._conn) + timedelta(days=days)
            self._conn.execute(
                "INSERT INTO clock (id, offset_seconds) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET offset_seconds = excluded.offset_seconds",
                (offset.total_seconds(),),
            )
            return tx.now + timedelta(days=days)

    def __enter__(self) -> SandboxStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One atomic unit of work; transfers past their expiry are expired first, and
        paid packages past their period renewed.

        Inside :meth:`batch`, on the batch's thread, it is a savepoint of the batch's
        transaction instead: atomic all the same (a failure undoes what it wrote), seeing
        the batch's clock and what the batch's earlier units left."""
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            with batch.tx.savepoint(_UNIT):
                yield batch.tx
            return
        with self._outermost(keep=True) as tx:
            yield tx

    @contextmanager
    def _outermost(self, *, keep: bool) -> Iterator[Transaction]:
        """A transaction of its own: what is due is expired and renewed first.

        ``keep=False`` is for dry runs, which undo what they write: the transaction then
        ends in a rollback unless its start expired or renewed something (which is
        kept, as ever). A commit would write again every page their undone writes
        touched, since SQLite keeps a page dirty through a rollback to a savepoint: a
        megabyte of WAL for a batch of 500 dry runs (issue 20), checkpointed later."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                started = self._conn.total_changes
                tx = Transaction(self._conn, self.clock() + _clock_offset(self._conn))
                tx.expire_due_transfers()
                tx.renew_due_packages()
                due = self._conn.total_changes != started
                yield tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT" if keep or due else "ROLLBACK")

    @contextmanager
    def trial(self) -> Iterator[Transaction]:
        """A transaction whose writes are all undone, whatever happens inside: a dry run.

        Inside :meth:`batch`, on the batch's thread, it is one savepoint of the batch's
        transaction, rolled back: the savepoint :meth:`transaction` would add there
        would only be undone with it. (One savepoint for all the batch's trials, rolled
        back to after each, would be one statement less each, but SQLite plays back the
        whole of its journal at every rollback to it: slower with each.)"""
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            with batch.tx.undone():
                yield batch.tx
            return
        with self._outermost(keep=False) as tx, tx.undone():
            yield tx

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several dry runs (:meth:`trial`) in one transaction: a batch asks the clock,
        expires transfers and renews packages once, not once for each. Other threads
        wait until it ends, as for any transaction. A unit of work in it that is not a
        trial may read; what it writes is undone with the batch's dry runs (see
        :meth:`_outermost`)."""
        with self._outermost(keep=False) as tx:
            self._batch = _Batch(threading.get_ident(), tx)
            try:
                yield
            finally:
                self._batch = None

    # -- administration, used by seeding, the CLI and tests (no caller checks) --

    def ensure_account(
        self,
        email: str,
        kind: AccountKind,
        *,
        token: str | None = None,
        read_token: str | None = None,
    ) -> Account:
        with self.transaction() as tx:
            return tx.ensure_account(email, kind, token=token, read_token=read_token)

    def token_for(self, email: str) -> str:
        """The account's API token; an account without one gets a new one."""
        with self.transaction() as tx:
            return tx.token_for(email)

    def grant_for_token(self, token: str) -> Grant | None:
        """The account a token acts for and its scope; None for an unknown token."""
        with self.transaction() as tx:
            return tx.grant_for_token(token)

    def site(self, site_id: str) -> Site:
        with self.transaction() as tx:
            return tx.load_site(site_id)

    def invoices_of(self, site_id: str) -> list[Invoice]:
        with self.transaction() as tx:
            return tx.all_invoices(site_id)

    def transfers_of(self, site_id: str) -> list[Transfer]:
        with self.transaction() as tx:
            return tx.all_transfers(site_id)

    def respond_to_transfer(self, site_id: str, accept: bool) -> Transfer:
        """Accept or decline the site's pending transfer as its recipient would."""
        with self.transaction() as tx:
            pending = self._pending_of(tx, site_id, "accept" if accept else "decline")
            transfer, _ = tx.respond_to_transfer(pending.to, pending.id, accept, if_match=None)
            return transfer

    def cancel_pending_transfer(self, site_id: str) -> Transfer:
        """Cancel the site's pending transfer as its owner would."""
        with self.transaction() as tx:
            pending = self._pending_of(tx, site_id, "cancel")
            tx.cancel_transfer(pending.from_owner, site_id, pending.id, if_match=None)
            cancelled = tx.all_transfers(site_id)
            return next(t for t in cancelled if t.id == pending.id)

    def _pending_of(self, tx: Transaction, site_id: str, verb: str) -> Transfer:
        if not tx.site_exists(site_id):
            raise SandboxError(f"there is no site {site_id!r} in the sandbox at {self.db_path}")
        pending = tx.pending_transfer(site_id)
        if pending is None:
            raise SandboxError(
                f"site {site_id!r} has no pending transfer to {verb}; "
                "the owner must start one first"
            )
        return pending

    def sign_up(self, email: str, kind: AccountKind) -> bool:
        """Open an account, as a client signing up would; False if it exists already.

        An existing account of another kind is an error: the platform does not change
        an account's kind.
        """
        with self.transaction() as tx:
            existing = tx.account(normalise_email(email))
            if existing is None:
                tx.ensure_account(email, kind)
                return True
        if existing.kind is not kind:
            raise SandboxError(
                f"{existing.email} already has an account of kind {existing.kind.value}, "
                f"not {kind.value}"
            )
        return False


@dataclass(frozen=True)
class _Batch:
    """The transaction of :meth:`SandboxStore.batch`, and the thread it runs on."""

    thread: int
    tx: Transaction


class Transaction:
    """The operations of one transaction; rule checks raise :class:`Refusal`."""

    def __init__(self, conn: sqlite3.Connection, now: datetime) -> None:
        self._conn = conn
        self.now = now

    # -- accounts --

    def ensure_account(
        self,
        email: str,
        kind: AccountKind,
        *,
        token: str | None = None,
        read_token: str | None = None,
    ) -> Account:
        """Create or update an account; an existing token is kept unless one is given.

        ``read_token`` (optional) has the ``read`` scope; ``token`` has ``write``.
        """
        email = normalise_email(email)
        row = self._conn.execute("SELECT token FROM accounts WHERE email = ?", (email,)).fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO accounts (email, kind, token) VALUES (?, ?, ?)",
                (email, kind.value, token or new_token()),
            )
        else:
            self._conn.execute(
                "UPDATE accounts SET kind = ?, token = ? WHERE email = ?",
                (kind.value, token or row[0], email),
            )
        if read_token is not None:
            self._set_read_token(email, read_token)
        return Account(email=email, kind=kind)

    def token_for(self, email: str) -> str:
        email = normalise_email(email)
        row = self._conn.execute("SELECT token FROM accounts WHERE email = ?", (email,)).fetchone()
        if row is None:
            raise SandboxError(f"there is no account {email} in the sandbox")
        return str(row[0])

    def account(self, email: str) -> Account | None:
        row = self._conn.execute(
            "SELECT email, kind FROM accounts WHERE email = ?", (email,)
        ).fetchone()
        return None if row is None else Account(email=row[0], kind=AccountKind(row[1]))

    def _has_account(self, email: str) -> bool:
        found = self._conn.execute("SELECT 1 FROM accounts WHERE email = ?", (email,))
        return found.fetchone() is not None

    def grant_for_token(self, token: str) -> Grant | None:
        row = self._conn.execute(
            "SELECT email, kind, 'write' FROM accounts WHERE token = ? UNION ALL"
            " SELECT a.email, a.kind, 'read' FROM read_tokens r JOIN accounts a"
            " ON a.email = r.email WHERE r.token = ?",
            (token, token),
        ).fetchone()
        if row is None:
            return None
        return Grant(Account(email=row[0], kind=AccountKind(row[1])), TokenScope(row[2]))

    def _set_read_token(self, email: str, token: str) -> None:
        self._conn.execute("DELETE FROM read_tokens WHERE email = ? OR token = ?", (email, token))
        self._conn.execute("INSERT INTO read_tokens (token, email) VALUES (?, ?)", (token, email))

    # -- idempotency --

    def recall(self, account: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """The answer stored under ``key``; reusing a key for another request is a 409
        (the request is valid; it conflicts with the one the key already names)."""
        row = self._conn.execute(
            "SELECT fingerprint, status, body, etag FROM idempotency WHERE account = ? AND key = ?",
            (account, key),
        ).fetchone()
        if row is None:
            return None
        if row[0] != fingerprint:
            raise conflict(
                f"Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for a new operation."
            )
        return StoredAnswer(status=row[1], body=row[2], etag=row[3])

    def remember(self, account: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        self._conn.execute(
            "INSERT INTO idempotency (account, key, fingerprint, status, body, etag, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, key, fingerprint, answer.status, answer.body, answer.etag,
             _to_text(self.now)),
        )  # fmt: skip

    @contextmanager
    def undone(self) -> Iterator[None]:
        """Run a dry run: whatever happens inside is undone, answer or not."""
        self._conn.execute("SAVEPOINT dry_run")
        try:
            yield
        finally:
            self._conn.execute("ROLLBACK TO dry_run")
            self._conn.execute("RELEASE dry_run")

    @contextmanager
    def savepoint(self, name: str = "operation") -> Iterator[None]:
        """Undo a refused operation's partial writes but keep the transaction."""
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        self._conn.execute(f"RELEASE {name}")

    # -- loading sites --

    def site_exists(self, site_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM sites WHERE id = ?", (site_id,)).fetchone()
        return row is not None

    def load_site(self, site_id: str) -> Site:
        rows = self._conn.execute(f"SELECT {_SITE_COLUMNS} FROM sites WHERE id = ?", (site_id,))
        sites = self._sites_of(rows.fetchall())
        if not sites:
            raise not_found(f"There is no site {site_id!r}, or you may not see it.")
        return sites[0]

    def _sites_of(self, rows: Sequence[Sequence[Any]]) -> list[Site]:
        """The sites of these rows (:data:`_SITE_COLUMNS`), with their collaborators and
        transfers: two more queries.

        Built without validating again (:func:`_trusted`): every value was checked on
        its way in, and a page has 500 sites.
        """
        ids = [str(row[0]) for row in rows]
        collaborators = self._collaborators_of(ids)
        pending, last = self._transfers_of(ids)
        sites = []
        for site_id, name, owner, billing, package, until, version, cents, *money in rows:
            paid_until = None if until is None else _from_text(until)
            price = None if cents is None else _price_of(package, cents, *money)
            sites.append(_trusted(Site, {
                "id": site_id, "name": name, "owner": owner, "billing_contact": billing,
                "package": _PACKAGES[package], "package_paid_until": paid_until,
                "package_price": price,
                # A paid package renews at the end of its period, on the owner's card
                # (``Transaction.renew_due_packages``).
                "package_renews_at": None if price is None else paid_until,
                "collaborators": collaborators.get(site_id, {}),
                "pending_transfer": pending.get(site_id),
                "last_transfer": last.get(site_id),
                "version": version,
            }))  # fmt: skip
        return sites

    def _collaborators_of(self, site_ids: list[str]) -> dict[str, dict[str, Role]]:
        found: dict[str, dict[str, Role]] = {}
        if not site_ids:
            return found
        marks = ",".join("?" * len(site_ids))
        for site_id, email, role in self._conn.execute(
            f"SELECT site_id, email, role FROM collaborators WHERE site_id IN ({marks})"
            " ORDER BY site_id, email",
            site_ids,
        ):
            found.setdefault(site_id, {})[email] = _ROLES[role]
        return found

    def _transfers_of(
        self, site_ids: list[str]
    ) -> tuple[dict[str, Transfer], dict[str, LastTransfer]]:
        """Each site's pending transfer, and the last one that ended."""
        pending: dict[str, Transfer] = {}
        last: dict[str, LastTransfer] = {}
        if not site_ids:
            return pending, last
        marks = ",".join("?" * len(site_ids))
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE site_id IN ({marks})"
            " ORDER BY ended_at, created_at, id",
            site_ids,
        ).fetchall()
        for row in rows:  # ended ones in the order they ended: the last one stays
            transfer = _transfer_from_row(row)
            if transfer.status is TransferStatus.PENDING:
                pending[transfer.site_id] = transfer
            else:
                last[transfer.site_id] = _last_of(transfer)
        return pending, last

    def pending_transfer(self, site_id: str) -> Transfer | None:
        return self._transfers_of([site_id])[0].get(site_id)

    def list_sites(self, caller: str, limit: int, cursor: str | None) -> SitePage:
        """The caller's sites (owned or shared) in id order, one page."""
        after = "" if cursor is None else decode_cursor(cursor)
        rows = self._conn.execute(LIST_PAGE_QUERY, (caller, after, limit + 1)).fetchall()
        sites = self._sites_of(rows[:limit])
        next_cursor = encode_cursor(sites[-1].id) if len(rows) > limit else None
        return _trusted(SitePage, {"items": sites, "next_cursor": next_cursor})

    def visible_site(self, caller: str, site_id: str) -> Site:
        """The site if the caller owns or collaborates on it; otherwise the same 404 as a
        missing site. The recipient of a pending transfer is neither: it sees the
        transfer in its received list, not the site's history, collaborators or billing."""
        site = self.load_site(site_id)
        if caller != site.owner and caller not in site.collaborators:
            raise not_found(f"There is no site {site_id!r}, or you may not see it.")
        return site

    def site_for_write(self, caller: str, site_id: str, if_match: int | None) -> Site:
        site = self.visible_site(caller, site_id)
        _check_version(site, if_match)
        return site

    def _bump_version(self, site_id: str) -> int:
        (row,) = self._conn.execute(  # all its rows: the statement is done when it returns
            "UPDATE sites SET version = version + 1 WHERE id = ? RETURNING version", (site_id,)
        ).fetchall()
        return int(row[0])

    # -- collaborators --

    def put_collaborator(
        self, caller: str, site_id: str, email: str, role: Role, if_match: int | None
    ) -> Site:
        site = self.site_for_write(caller, site_id, if_match)
        _require_manager(caller, site)
        if email == site.owner:
            raise conflict(
                f"{email} owns site {site_id!r} and has full access; "
                "the owner cannot also be a collaborator."
            )
        if site.collaborators.get(email) == role:
            return site
        if email not in site.collaborators:
            _check_collaborator_cap(site)
        self._conn.execute(
            "INSERT INTO collaborators (site_id, email, role) VALUES (?, ?, ?)"
            " ON CONFLICT (site_id, email) DO UPDATE SET role = excluded.role",
            (site_id, email, role.value),
        )
        self._bump_version(site_id)
        return self.load_site(site_id)

    def delete_collaborator(
        self, caller: str, site_id: str, email: str, if_match: int | None
    ) -> Site:
        site = self.site_for_write(caller, site_id, if_match)
        _require_manager(caller, site)
        if email not in site.collaborators:
            raise not_found(f"{email} is not a collaborator of site {site_id!r}.")
        self._conn.execute(
            "DELETE FROM collaborators WHERE site_id = ? AND email = ?", (site_id, email)
        )
        self._bump_version(site_id)
        return self.load_site(site_id)

    # -- billing --

    def set_billing_contact(
        self, caller: str, site_id: str, email: str, if_match: int | None
    ) -> Site:
        site = self.site_for_write(caller, site_id, if_match)
        _require_owner(caller, site, "change the billing contact")
        if site.billing_contact == email:
            return site
        self._conn.execute("UPDATE sites SET billing_contact = ? WHERE id = ?", (email, site_id))
        self._bump_version(site_id)
        return self.load_site(site_id)

    def purchase(
        self, caller: str, site_id: str, package: Package, if_match: int | None
    ) -> tuple[Purchase, int]:
        """Charge the owner, invoice the owner, and switch the package for a year."""
        site = self.site_for_write(caller, site_id, if_match)
        _require_owner(caller, site, "buy a package (the owner pays and is invoiced)")
        _check_purchasable(site, package)
        price = LIST_PRICE[package]
        invoice = Invoice(
            id=_new_id("in"),
            site_id=site_id,
            billed_to=site.owner,
            package=package,
            amount_cents=price.amount_cents,
            currency=price.currency,
            issued_at=self.now,
        )
        purchase = Purchase(
            id=_new_id("pu"),
            site_id=site_id,
            package=package,
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            paid_by=site.owner,
            invoice_id=invoice.id,
            created_at=self.now,
        )
        self._insert_invoice(invoice)
        self._conn.execute(
            "INSERT INTO purchases (id, site_id, package, amount_cents, currency, paid_by,"
            " invoice_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (purchase.id, site_id, package.value, purchase.amount_cents, purchase.currency,
             purchase.paid_by, invoice.id, _to_text(self.now)),
        )  # fmt: skip
        self._conn.execute(
            "UPDATE sites SET package = ?, package_paid_until = ? WHERE id = ?",
            (package.value, _to_text(self.now + PERIOD_LENGTH[price.period]), site_id),
        )
        self._set_price(site_id, price)
        return purchase, self._bump_version(site_id)

    def _insert_invoice(self, invoice: Invoice) -> None:
        self._conn.execute(
            "INSERT INTO invoices (id, site_id, billed_to, package, amount_cents, currency,"
            " issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invoice.id, invoice.site_id, invoice.billed_to, invoice.package.value,
             invoice.amount_cents, invoice.currency, _to_text(invoice.issued_at)),
        )  # fmt: skip

    def _set_price(self, site_id: str, price: PackagePrice | None) -> None:
        self._conn.execute(
            "UPDATE sites SET price_cents = ?, price_currency = ?, price_period = ? WHERE id = ?",
            (None, None, None, site_id) if price is None
            else (price.amount_cents, price.currency, price.period.value, site_id),
        )  # fmt: skip

    def renew_due_packages(self) -> None:
        """A paid package whose period has ended renews on its owner's card (platform
        rule 6): an invoice to the owner of the day for each period the clock passed,
        dated when that period began, and a new version of the site."""
        due = self._conn.execute(
            "SELECT id, owner, package, package_paid_until, price_cents, price_currency,"
            " price_period FROM sites WHERE price_cents IS NOT NULL AND package_paid_until <= ?",
            (_to_text(self.now),),
        ).fetchall()
        for site_id, owner, package, until, cents, currency, period in due:
            paid_until, length = _from_text(until), PERIOD_LENGTH[BillingPeriod(period)]
            while paid_until <= self.now:
                self._insert_invoice(
                    Invoice(id=_new_id("in"), site_id=site_id, billed_to=owner,
                            package=Package(package), amount_cents=cents, currency=currency,
                            issued_at=paid_until)
                )  # fmt: skip
                paid_until += length
            self._conn.execute(
                "UPDATE sites SET package_paid_until = ? WHERE id = ?",
                (_to_text(paid_until), site_id),
            )
            self._bump_version(site_id)

    def invoices(self, caller: str, site_id: str) -> tuple[list[Invoice], int]:
        """The owner's invoices of the site; earlier owners' invoices stay theirs."""
        site = self.visible_site(caller, site_id)
        _require_owner(caller, site, "see invoices (they are issued to the owner)")
        found = [i for i in self.all_invoices(site_id) if i.billed_to == caller]
        return found, site.version

    def all_invoices(self, site_id: str) -> list[Invoice]:
        rows = self._conn.execute(
            "SELECT id, site_id, billed_to, package, amount_cents, currency, issued_at"
            " FROM invoices WHERE site_id = ? ORDER BY issued_at, id",
            (site_id,),
        ).fetchall()
        return [
            Invoice(id=r[0], site_id=r[1], billed_to=r[2], package=Package(r[3]),
                    amount_cents=r[4], currency=r[5], issued_at=_from_text(r[6]))
            for r in rows
        ]  # fmt: skip

    # -- transfers --

    def expire_due_transfers(self) -> None:
        """Pending transfers past their expiry become ``expired`` and stop blocking."""
        now = _to_text(self.now)
        due = self._conn.execute(
            "SELECT id, site_id FROM transfers WHERE status = 'pending' AND expires_at <= ?",
            (now,),
        ).fetchall()
        for transfer_id, site_id in due:
            # It ended when it expired, not when the platform next looked.
            self._conn.execute(
                "UPDATE transfers SET status = 'expired', ended_at = expires_at WHERE id = ?",
                (transfer_id,),
            )
            self._bump_version(site_id)

    def all_transfers(self, site_id: str) -> list[Transfer]:
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE site_id = ? ORDER BY created_at, id",
            (site_id,),
        ).fetchall()
        return [_transfer_from_row(row) for row in rows]

    def site_transfers(self, caller: str, site_id: str) -> list[Transfer]:
        """Every transfer of a site the caller sees, newest first; 404 like any route."""
        self.visible_site(caller, site_id)
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE site_id = ?"
            " ORDER BY created_at DESC, id DESC",
            (site_id,),
        ).fetchall()
        return [_transfer_from_row(row) for row in rows]

    def transfers_page(
        self, caller: str, direction: TransferDirection, limit: int, cursor: str | None
    ) -> TransferPage:
        """The transfers the caller sent (also of sites it no longer sees) or received,
        newest first, one page; keyset over (created_at, id) on the party's index."""
        party = "from_owner" if direction is TransferDirection.SENT else "to_email"
        before = ("9999", "") if cursor is None else decode_transfer_cursor(cursor)
        rows = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE {party} = ?"
            " AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?",
            (caller, *before, limit + 1),
        ).fetchall()
        transfers = [_transfer_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = encode_transfer_cursor(transfers[-1]) if more else None
        return TransferPage(items=transfers, next_cursor=next_cursor)

    def _transfer(self, transfer_id: str) -> Transfer | None:
        row = self._conn.execute(
            f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE id = ?", (transfer_id,)
        ).fetchone()
        return None if row is None else _transfer_from_row(row)

    def start_transfer(
        self, caller: str, site_id: str, to: str, stay: bool, if_match: int | None
    ) -> tuple[Transfer, int]:
        site = self.site_for_write(caller, site_id, if_match)
        _require_owner(caller, site, "hand the site over")
        if to == site.owner:
            raise unprocessable(f"{to} already owns site {site_id!r}; nothing to hand over.")
        if not self._has_account(to):  # a valid request the platform's state refuses: 409
            raise conflict(
                f"There is no account for {to}: the client must sign up first, "
                "then start the transfer again."
            )
        if site.pending_transfer is not None:
            raise conflict(_pending_detail(site.pending_transfer))
        if stay:
            _check_room_to_stay(site, to)
        transfer = Transfer(
            id=_new_id("tr"),
            site_id=site_id,
            from_owner=site.owner,
            to=to,
            stay_as_collaborator=stay,
            status=TransferStatus.PENDING,
            created_at=self.now,
            expires_at=self.now + TRANSFER_LIFETIME,
        )
        self._conn.execute(
            f"INSERT INTO transfers ({_TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (transfer.id, site_id, transfer.from_owner, to, int(stay), transfer.status.value,
             _to_text(transfer.created_at), _to_text(transfer.expires_at)),
        )  # fmt: skip
        return transfer, self._bump_version(site_id)

    def cancel_transfer(
        self, caller: str, site_id: str, transfer_id: str, if_match: int | None
    ) -> int:
        site = self.site_for_write(caller, site_id, if_match)
        _require_owner(caller, site, "cancel a transfer")
        transfer = self._transfer(transfer_id)
        if transfer is None or transfer.site_id != site_id:
            raise not_found(f"Site {site_id!r} has no transfer {transfer_id!r}.")
        _require_pending(transfer)
        self._set_transfer_status(transfer_id, TransferStatus.CANCELLED)
        return self._bump_version(site_id)

    def respond_to_transfer(
        self, caller: str, transfer_id: str, accept: bool, if_match: int | None
    ) -> tuple[Transfer, int]:
        """The recipient accepts or declines; only the recipient may."""
        transfer = self._transfer(transfer_id)
        unknown = not_found(f"There is no transfer {transfer_id!r}, or it is not addressed to you.")
        if transfer is None:
            raise unknown
        site = self.load_site(transfer.site_id)
        if caller != transfer.to:
            if caller == site.owner or caller in site.collaborators:
                verb = "accept" if accept else "decline"
                raise forbidden(f"Only the recipient, {transfer.to}, can {verb} this transfer.")
            raise unknown
        _check_version(site, if_match)
        _require_pending(transfer)
        if accept:
            if transfer.stay_as_collaborator:
                _check_room_to_stay(site, transfer.to)
            self._hand_over(site, transfer)
        status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
        self._set_transfer_status(transfer_id, status)
        ended = transfer.model_copy(update={"status": status, "ended_at": self.now})
        return ended, self._bump_version(site.id)

    def _hand_over(self, site: Site, transfer: Transfer) -> None:
        """The recipient owns and is billed; the former owner stays as editor or leaves."""
        self._conn.execute(
            "UPDATE sites SET owner = ?, billing_contact = ? WHERE id = ?",
            (transfer.to, transfer.to, site.id),
        )
        self._conn.execute(
            "DELETE FROM collaborators WHERE site_id = ? AND email IN (?, ?)",
            (site.id, transfer.to, site.owner),
        )
        if transfer.stay_as_collaborator:
            self._conn.execute(
                "INSERT INTO collaborators (site_id, email, role) VALUES (?, ?, ?)",
                (site.id, site.owner, Role.EDITOR.value),
            )

    def _set_transfer_status(self, transfer_id: str, status: TransferStatus) -> None:
        self._conn.execute(
            "UPDATE transfers SET status = ?, ended_at = ? WHERE id = ?",
            (status.value, _to_text(self.now), transfer_id),
        )

    # -- seeding and bulk loading --

    def put_site(
        self,
        site_id: str,
        *,
        name: str,
        owner: str,
        billing_contact: str,
        package: Package,
        collaborators: Mapping[str, Role],
        package_paid_until: datetime | None = None,
        package_price: PackagePrice | None = None,
    ) -> None:
        """Create a site, or set it to exactly this state; unchanged means no new version.

        A paid package without ``package_price`` is at the list price (or keeps its
        price); without ``package_paid_until`` its period starts now (or is kept)."""
        price = None if package is Package.FREE else (package_price or LIST_PRICE[package])
        paid_until = package_paid_until
        if paid_until is None and price is not None:
            paid_until = self.now + PERIOD_LENGTH[price.period]
        if not self.site_exists(site_id):
            self.insert_sites([(site_id, name, owner, billing_contact, package, paid_until,
                                collaborators)])  # fmt: skip
            self._set_price(site_id, price)
            return
        current = self.load_site(site_id)
        if current.package is package:
            if package_paid_until is None:
                paid_until = current.package_paid_until
            if package_price is None:
                price = current.package_price
        wanted = current.model_copy(
            update={"name": name, "owner": owner, "billing_contact": billing_contact,
                    "package": package, "package_paid_until": paid_until,
                    "package_price": price,
                    "package_renews_at": None if price is None else paid_until,
                    "collaborators": dict(collaborators)}
        )  # fmt: skip
        if wanted == current:
            return
        self._set_price(site_id, price)
        self._conn.execute(
            "UPDATE sites SET name = ?, owner = ?, billing_contact = ?, package = ?,"
            " package_paid_until = ? WHERE id = ?",
            (name, owner, billing_contact, package.value,
             None if paid_until is None else _to_text(paid_until), site_id),
        )  # fmt: skip
        self._conn.execute("DELETE FROM collaborators WHERE site_id = ?", (site_id,))
        self._insert_collaborators(site_id, collaborators)
        self._bump_version(site_id)

    def insert_sites(self, sites: Iterable[SiteRow]) -> int:
        """Insert new sites in bulk (benchmarks, seeding); returns how many."""
        count = 0
        for site_id, name, owner, billing, package, paid_until, collaborators in sites:
            price = LIST_PRICE.get(package)
            self._conn.execute(
                "INSERT INTO sites (id, name, owner, billing_contact, package,"
                " package_paid_until, version, price_cents, price_currency, price_period)"
                " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                (site_id, name, owner, billing, package.value,
                 None if paid_until is None else _to_text(paid_until),
                 *((None, None, None) if price is None
                   else (price.amount_cents, price.currency, price.period.value))),
            )  # fmt: skip
            self._insert_collaborators(site_id, collaborators)
            count += 1
        return count

    def _insert_collaborators(self, site_id: str, collaborators: Mapping[str, Role]) -> None:
        self._conn.executemany(
            "INSERT INTO collaborators (site_id, email, role) VALUES (?, ?, ?)",
            [(site_id, email, role.value) for email, role in collaborators.items()],
        )


SiteRow = tuple[str, str, str, str, Package, datetime | None, Mapping[str, Role]]
"""(id, name, owner, billing_contact, package, package_paid_until, collaborators)."""


_SITE_COLUMNS = (
    "id, name, owner, billing_contact, package, package_paid_until, version,"
    " price_cents, price_currency, price_period"
)
LIST_PAGE_QUERY = (
    "SELECT s.id, s.name, s.owner, s.billing_contact, s.package, s.package_paid_until,"
    " s.version, s.price_cents, s.price_currency, s.price_period"
    " FROM access a JOIN sites s ON s.id = a.site_id"
    " WHERE a.email = ? AND a.site_id > ? ORDER BY a.site_id LIMIT ?"
)
"""One page of the sites a caller sees: a range of the access index, already in order,
each site found by its key."""


_PACKAGES = {package.value: package for package in Package}
_ROLES = {role.value: role for role in Role}
_PERIODS = {period.value: period for period in BillingPeriod}
"""The members by their stored values: a dictionary is faster than the enum's call."""

M = TypeVar("M", bound=BaseModel)


def _trusted(model: type[M], values: dict[str, Any]) -> M:
    """``model.model_construct(**values)`` when ``values`` names every field, in order,
    without its loop over the fields (a page builds 500 sites; see
    ``model.constructed``): nothing is validated."""
    return constructed(model, values)


def _price_of(
    package: str, cents: int | None, currency: str | None, period: str | None
) -> PackagePrice | None:
    """The price columns of a site's row; None for a free package."""
    if cents is None or package == Package.FREE.value:
        return None
    return _trusted(
        PackagePrice, {"amount_cents": cents, "currency": currency, "period": _PERIODS[str(period)]}
    )


def _transfer_from_row(row: tuple[object, ...]) -> Transfer:
    return Transfer(
        id=str(row[0]),
        site_id=str(row[1]),
        from_owner=str(row[2]),
        to=str(row[3]),
        stay_as_collaborator=bool(row[4]),
        status=TransferStatus(str(row[5])),
        created_at=_from_text(str(row[6])),
        expires_at=_from_text(str(row[7])),
        ended_at=None if row[8] is None else _from_text(str(row[8])),
    )


def _last_of(transfer: Transfer) -> LastTransfer:
    assert transfer.ended_at is not None, "an ended transfer has its end"
    return LastTransfer(
        id=transfer.id,
        to=transfer.to,
        stay_as_collaborator=transfer.stay_as_collaborator,
        status=TransferEnd(transfer.status.value),
        created_at=transfer.created_at,
        ended_at=transfer.ended_at,
    )


def _clock_offset(conn: sqlite3.Connection) -> timedelta:
    row = conn.execute("SELECT offset_seconds FROM clock WHERE id = 1").fetchone()
    return timedelta(0) if row is None else timedelta(seconds=float(row[0]))


def _check_version(site: Site, if_match: int | None) -> None:
    if if_match is not None and if_match != site.version:
        named = "the one If-Match names" if if_match == NO_VERSION else str(if_match)
        raise Refusal(
            412,
            "Precondition Failed",
            f"Site {site.id!r} is at version {site.version}, not {named}: it changed "
            "since you read it. Read it again and re-plan.",
        )


def _require_owner(caller: str, site: Site, action: str) -> None:
    if caller != site.owner:
        raise forbidden(f"Only the owner of site {site.id!r}, {site.owner}, can {action}.")


def _require_manager(caller: str, site: Site) -> None:
    """The owner, or an ``admin`` collaborator, manages collaborators."""
    if caller != site.owner and site.collaborators.get(caller) is not Role.ADMIN:
        raise forbidden(
            f"Only the owner of site {site.id!r}, {site.owner}, or an admin collaborator "
            "can manage collaborators."
        )


def _check_collaborator_cap(site: Site) -> None:
    cap = COLLABORATOR_CAP[site.package]
    if len(site.collaborators) >= cap:
        raise conflict(
            f"Site {site.id!r} has the {site.package.value} package, which allows at most "
            f"{cap} collaborators; remove one first or upgrade the package."
        )


def _check_room_to_stay(site: Site, recipient: str) -> None:
    """The former owner staying as editor must fit the cap, beside all but the recipient
    (who leaves the collaborators to become the owner)."""
    staying = {email for email in site.collaborators if email != recipient} | {site.owner}
    cap = COLLABORATOR_CAP[site.package]
    if len(staying) > cap:
        raise conflict(
            f"Site {site.id!r} has the {site.package.value} package, which allows at most "
            f"{cap} collaborators; {site.owner} staying as editor after the handover would "
            "be one more. Remove a collaborator first, or hand over without staying."
        )


def _check_purchasable(site: Site, package: Package) -> None:
    if site.package is package:
        raise conflict(f"Site {site.id!r} already has the {package.value} package.")
    if package is Package.FREE:
        until = site.package_paid_until.date() if site.package_paid_until else "its period end"
        raise conflict(
            f"Site {site.id!r} has a paid {site.package.value} package until {until}; "
            "it is not refunded and cannot be changed to free before then."
        )


def _require_pending(transfer: Transfer) -> None:
    if transfer.status is TransferStatus.PENDING:
        return
    if transfer.status is TransferStatus.EXPIRED:
        raise conflict(
            f"Transfer {transfer.id!r} expired on {transfer.expires_at:%Y-%m-%d}; "
            "the owner must start a new one."
        )
    raise conflict(f"Transfer {transfer.id!r} is already {transfer.status.value}.")


def _pending_detail(transfer: Transfer) -> str:
    return (
        f"Site {transfer.site_id!r} already has a pending transfer {transfer.id!r} to "
        f"{transfer.to} (expires {transfer.expires_at:%Y-%m-%d}); cancel it first."
    )
