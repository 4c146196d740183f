"""``reconciler sandbox ...``: serve, seed, and answer transfers as the client would.

The group is attached to the main CLI with ``cli.add_command(sandbox)``. User mistakes
raise :class:`~reconciler.errors.ReconcilerError` subclasses, which the main CLI's
error boundary prints without a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.desired.config import SANDBOX_DB

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The sandbox's SQLite database  [default: {SANDBOX_DB} in the repository, the "
    "embedded sandbox's]",
)


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
    click.echo(f"sandbox at http://{host}:{port} (database {db_path}, faults: {faults})")
    serve(host, port, db_path, faults)


@sandbox.command("seed")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@DB_OPTION
def seed_command(file: Path, db_path: Path | None) -> None:
    """Load accounts and sites from a seed FILE (safe to repeat).

    \b
    Examples:
      reconciler sandbox seed sandbox.seed.yaml
      reconciler sandbox seed sandbox.seed.yaml --db /tmp/sandbox.db
    """
    from reconciler.sandbox.seed import seed_file
    from reconciler.sandbox.store import SandboxStore

    db_path = _db(db_path)
    with SandboxStore(db_path) as store:
        result = seed_file(store, file)
    click.echo(f"seeded {result.accounts} accounts and {result.sites} sites into {db_path}")


@sandbox.command("transfer")
@click.argument("answer", type=click.Choice(["accept", "decline"]))
@click.argument("site")
@DB_OPTION
def transfer_command(answer: str, site: str, db_path: Path | None) -> None:
    """Accept or decline SITE's pending transfer, as its recipient would.

    \b
    Examples:
      reconciler sandbox transfer accept acme-bakery
      reconciler sandbox transfer decline acme-bakery --db /tmp/sandbox.db
    """
    from reconciler.sandbox.store import SandboxError, SandboxStore

    db_path = _db(db_path)
    if not db_path.exists():
        raise SandboxError(
            f"no sandbox database at {db_path}; run `reconciler plan` (which creates the "
            "embedded sandbox) or pass --db"
        )
    with SandboxStore(db_path) as store:
        transfer = store.respond_to_transfer(site, accept=answer == "accept")
    click.echo(f"{transfer.to} {transfer.status.value} the transfer of {site} ({transfer.id})")
