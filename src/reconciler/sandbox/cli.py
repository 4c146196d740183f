"""``reconciler sandbox ...``: serve, seed, act as the client, move the clock.

The group is attached to the main CLI with ``cli.add_command(sandbox)``. User mistakes
raise :class:`~reconciler.errors.ReconcilerError` subclasses, which the main CLI's
error boundary prints without a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.desired.config import SANDBOX_DB, SANDBOX_SEED

if TYPE_CHECKING:
    from reconciler.sandbox.store import SandboxStore

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The sandbox's SQLite database  [default: {SANDBOX_DB} in the repository, the "
    "embedded sandbox's]",
)


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def _report(output_format: str, text: str, document: dict[str, Any]) -> None:
    """The command's result: a sentence, or its one JSON document on stdout."""
    if output_format == "json":
        # No log reads "##[" inside a JSON string as a workflow command (as render does).
        body = json.dumps({"format_version": 1, **document}, indent=2, default=str)
        click.echo(body.replace("##[", "##\\u005b"))
    else:
        click.echo(text)


def _db(db_path: Path | None) -> Path:
    """``--db``, or the embedded sandbox's database under ``--root``."""
    if db_path is not None:
        return db_path
    context = click.get_current_context(silent=True)
    settings = context.find_root().obj if context is not None else None
    root = settings.get("root") if isinstance(settings, dict) else None
    return (Path(root) if root else Path.cwd()) / SANDBOX_DB


@click.group()
def sandbox() -> None:
    """A local platform: serve it, seed it, act as the client on it."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@DB_OPTION
@click.option("--faults", "faults_spec", default="", metavar="SPEC",
              help="Faults to inject, e.g. error_rate=0.1,drop_rate=0.05,latency_ms=20,"
                   "rate_limit=50 (optionally seed=N).")  # fmt: skip
def serve_command(host: str, port: int, db_path: Path | None, faults_spec: str) -> None:
    """Serve the sandbox API until interrupted.

    \b
    Examples:
      reconciler sandbox serve
      reconciler sandbox serve --port 8080 --db /tmp/sandbox.db
      reconciler sandbox serve --faults error_rate=0.1,drop_rate=0.05,rate_limit=50
    """
    from reconciler.sandbox.faults import FaultSpec
    from reconciler.sandbox.server import serve

    db_path = _db(db_path)
    faults = FaultSpec.parse(faults_spec)
    serve(
        host,
        port,
        db_path,
        faults,
        ready=lambda url: click.echo(f"sandbox at {url} (database {db_path}, faults: {faults})"),
    )


@sandbox.command("seed")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@DB_OPTION
@FORMAT_OPTION
def seed_command(file: Path, db_path: Path | None, output_format: str) -> None:
    """Load accounts and sites from a seed FILE (safe to repeat).

    \b
    Examples:
      reconciler sandbox seed sandbox.seed.yaml
      reconciler sandbox seed sandbox.seed.yaml --db /tmp/sandbox.db
    """
    from reconciler.sandbox.seed import apply_seed, load_seed
    from reconciler.sandbox.seed_mark import mark_seed, seed_changed
    from reconciler.sandbox.store import SandboxStore

    db_path = _db(db_path)
    seed = load_seed(file)  # a bad seed leaves no database behind, not even an empty one
    with SandboxStore(db_path) as store:
        result = apply_seed(store, seed, source=file)
    # The embedded sandbox's own seed (the repository's, beside .reconciler/), loaded
    # again after an edit: the database now holds it, so no notice says it does not.
    embedded_seed = db_path.resolve().parent.parent / SANDBOX_SEED
    if file.resolve() == embedded_seed and seed_changed(db_path, file):
        mark_seed(db_path, file)
    _report(
        output_format,
        f"seeded {result.accounts} accounts and {result.sites} sites into {db_path}",
        {"accounts": result.accounts, "sites": result.sites, "db": str(db_path)},
    )


@sandbox.command("transfer")
@click.argument("answer", type=click.Choice(["accept", "decline", "cancel"]))
@click.argument("site")
@DB_OPTION
@FORMAT_OPTION
def transfer_command(answer: str, site: str, db_path: Path | None, output_format: str) -> None:
    """Accept, decline or cancel SITE's pending transfer.

    The recipient accepts or declines; the owner cancels. The command acts as them.

    \b
    Examples:
      reconciler sandbox transfer accept acme-bakery
      reconciler sandbox transfer decline acme-bakery --db /tmp/sandbox.db
      reconciler sandbox transfer cancel acme-bakery
    """
    with _existing_store(db_path) as store:
        if answer == "cancel":
            transfer = store.cancel_pending_transfer(site)
            who = transfer.from_owner
        else:
            transfer = store.respond_to_transfer(site, accept=answer == "accept")
            who = transfer.to
    _report(
        output_format,
        f"{who} {transfer.status.value} the transfer of {site} ({transfer.id})",
        {
            "site": site,
            "transfer": transfer.id,
            "status": transfer.status.value,
            "from": transfer.from_owner,
            "to": transfer.to,
            "by": who,
        },
    )


@sandbox.group("clock")
def clock_group() -> None:
    """The sandbox's clock, which decides when transfers expire."""


@clock_group.command("advance")
@click.argument("days", type=click.FloatRange(min=0, min_open=True, max=36500))
@DB_OPTION
@FORMAT_OPTION
def clock_advance_command(days: float, db_path: Path | None, output_format: str) -> None:
    """Move the sandbox's clock DAYS forward (transfers expire after 14 days).

    The time is kept in the database, so a served sandbox sees it at once, and every
    answer's Date header shows it.

    \b
    Examples:
      reconciler sandbox clock advance 14
      reconciler sandbox clock advance 0.5 --db /tmp/sandbox.db
    """
    with _existing_store(db_path) as store:
        now = store.advance_clock(days)
    _report(
        output_format,
        f"sandbox clock advanced {days:g} days, to {now:%Y-%m-%d %H:%M} UTC",
        {"advanced_days": days, "now": now.isoformat()},
    )


@sandbox.group("account")
def account_group() -> None:
    """Accounts on the sandbox."""


@account_group.command("add")
@click.argument("email", callback=lambda _ctx, _param, value: _email(value))
@click.option("--kind", type=click.Choice(["customer", "expert"]), default="customer",
              show_default=True, help="A client signs up as a customer.")  # fmt: skip
@DB_OPTION
@FORMAT_OPTION
def account_add_command(email: str, kind: str, db_path: Path | None, output_format: str) -> None:
    """Open an account for EMAIL, as a client signing up would.

    A handover to an address without an account is refused until then.

    \b
    Examples:
      reconciler sandbox account add anna@acme-bakery.example
      reconciler sandbox account add studio@pixel.example --kind expert --db /tmp/sandbox.db
    """
    from reconciler.model import AccountKind

    with _existing_store(db_path) as store:
        created = store.sign_up(email, AccountKind(kind))
    text = (
        f"{email} signed up ({kind} account)"
        if created
        else f"{email} already has a {kind} account; nothing to do"
    )
    _report(output_format, text, {"email": email, "kind": kind, "created": created})


def _email(value: str) -> str:
    from reconciler.model import normalise_email

    try:
        return normalise_email(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def _existing_store(db_path: Path | None) -> Iterator[SandboxStore]:
    """The sandbox database that ``--db`` (or the repository) names; it must exist."""
    from reconciler.sandbox.store import SandboxError, SandboxStore

    db_path = _db(db_path)
    if not db_path.exists():
        raise SandboxError(
            f"no sandbox database at {db_path}; run `reconciler plan` (which creates the "
            "embedded sandbox) or pass --db"
        )
    with SandboxStore(db_path) as store:
        yield store
