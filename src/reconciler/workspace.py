"""Where the platform is: the configured API, or the embedded sandbox.

With no ``platform`` block in reconciler.yaml, a local sandbox serves the API from
``.reconciler/sandbox.db`` (created on first use, seeded from ``sandbox.seed.yaml``
when the repository has one), so that every command works on a fresh clone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from reconciler.config import Config
from reconciler.errors import ConfigError
from reconciler.model import AccountKind, ObservedSite
from reconciler.platform.client import PlatformClient
from reconciler.platform.schema import to_observed

STATE_DIR = ".reconciler"
SANDBOX_DB = "sandbox.db"
SANDBOX_SEED = "sandbox.seed.yaml"

log = logging.getLogger("reconciler")


@contextmanager
def open_platform(
    root: Path, config: Config, environ: Mapping[str, str]
) -> Iterator[PlatformClient]:
    """A client for the configured platform, checked to act as the configured expert."""
    if config.platform is not None:
        with PlatformClient.from_config(config.platform, environ) as client:
            _check_identity(client, config.expert)
            yield client
        return
    with _embedded_sandbox(root, config) as client:
        yield client


@contextmanager
def _embedded_sandbox(root: Path, config: Config) -> Iterator[PlatformClient]:
    from reconciler.sandbox.seed import seed_file
    from reconciler.sandbox.server import EmbeddedSandbox

    db = root / STATE_DIR / SANDBOX_DB
    is_new = not db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    with EmbeddedSandbox(db) as sandbox:
        seed_path = root / SANDBOX_SEED
        if is_new and seed_path.is_file():
            log.info("seeding the embedded sandbox from %s", SANDBOX_SEED)
            seed_file(sandbox.store, seed_path)
        sandbox.store.ensure_account(config.expert, AccountKind.EXPERT)
        with PlatformClient(sandbox.url, sandbox.store.token_for(config.expert)) as client:
            yield client


def _check_identity(client: PlatformClient, expert: str) -> None:
    me = client.me()
    if me.email != expert:
        raise ConfigError(
            f"the platform token belongs to {me.email}, but reconciler.yaml says the expert "
            f"is {expert}; use the expert's token or correct `expert:`"
        )


def observe(client: PlatformClient) -> dict[str, ObservedSite]:
    """Every site the expert can see, one request per page."""
    return {site.id: to_observed(site) for site in client.iter_sites()}
