"""Where the platform is: the configured API, or the embedded sandbox.

With no ``platform`` block in reconciler.yaml, a local sandbox serves the API from
``.reconciler/sandbox.db`` (created on first use, seeded from ``sandbox.seed.yaml``
when the repository has one), so that every command works on a fresh clone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.desired.config import SANDBOX_DB, SANDBOX_SEED, Config, People
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.heap import bulk
from reconciler.model import AccountKind, DesiredSite, ObservedSite
from reconciler.operations.configuration import configured_platform, load_config
from reconciler.operations.sandbox_child import SandboxChild, is_small
from reconciler.platform.base import Capability, Interest, Platform
from reconciler.platform.errors import TransportError
from reconciler.platform.kinds import DEFAULT_KIND, PlatformBlock, create_platform

if TYPE_CHECKING:
    from reconciler.platform.forked import ForkedPlatform
    from reconciler.sandbox.store import SandboxStore

log = logging.getLogger("reconciler")


@contextmanager
def open_platform(
    root: Path,
    config: Config,
    environ: Mapping[str, str],
    sandbox: SandboxChild | None = None,
    *,
    platform: Platform | None = None,
) -> Iterator[Platform]:
    """The configured platform, checked to act as the configured expert.

    ``sandbox`` is the embedded sandbox's child if the command started it early (see
    :func:`~reconciler.operations.sandbox_child.early_sandbox`); its caller stops it.
    ``platform``: one made by the caller instead (a test's in-memory platform,
    :mod:`reconciler.sandbox.memory`), checked alike; its caller closes it.
    """
    if platform is not None:
        check_identity(platform, config.expert)
        yield platform
        return
    if config.platform is not None:
        platform = configured_platform(config, environ)
        try:
            check_identity(platform, config.expert)
            yield platform
        finally:
            platform.close()
        return
    with _embedded_sandbox(root, config, sandbox) as platform:
        yield platform


PLATFORM_PROCESS_ENV = "RECONCILER_PLATFORM_PROCESS"
_PLATFORM_PROCESS_CHOICES = ("auto", "always", "never")


@contextmanager
def early_platform(root: Path, environ: Mapping[str, str]) -> Iterator[ForkedPlatform | None]:
    """The configured platform opened in a child process now, when its work is worth a
    core; None otherwise (the command opens the platform itself, as before). Closed at
    the end.

    Called before the command imports its modules, so that the child's start (its HTTP
    client's imports, the identity check) runs beside them: on thousands of sites the
    child's answers are what the command waits for last. A repository whose
    reconciler.yaml cannot be read gets None, and the command then says why.
    """
    try:
        config = load_config(root)
    except ReconcilerError:
        yield None
        return
    forked = forked_platform(root, config, environ)
    if forked is None:
        yield None
        return
    with closing(forked):
        yield forked


def forked_platform(
    root: Path, config: Config, environ: Mapping[str, str]
) -> ForkedPlatform | None:
    """The configured platform opened in a child process, when its work is worth a core:
    a repository of more than one page of sites, where a fork is safe (``can_fork``).
    ``RECONCILER_PLATFORM_PROCESS``: ``auto`` (the default), ``always`` (whatever the
    size, where a fork is safe) or ``never``. None: open it in this process.

    The child reads and dry-runs only (see :mod:`reconciler.platform.forked`). The
    embedded sandbox is never forked: its server has its own process once it matters.
    """
    choice = environ.get(PLATFORM_PROCESS_ENV, "").strip().lower() or "auto"
    if choice not in _PLATFORM_PROCESS_CHOICES:
        raise ConfigError(
            f"{PLATFORM_PROCESS_ENV}={choice!r} is not one of "
            f"{', '.join(_PLATFORM_PROCESS_CHOICES)}; unset it for auto"
        )
    if config.platform is None or choice == "never":
        return None
    from reconciler.platform.forked import ForkedPlatform, can_fork

    if not can_fork() or (choice == "auto" and is_small(root)):
        return None
    return ForkedPlatform(lambda: open_platform(root, config, environ))


@contextmanager
def _embedded_sandbox(root: Path, config: Config, child: SandboxChild | None) -> Iterator[Platform]:
    """The sandbox's server over real HTTP on 127.0.0.1, serving the repository's
    database: in a thread of this process for a small repository, where starting a
    second interpreter would cost more than the answers; otherwise in a child process,
    so that the platform's work runs beside ours, as a real platform's would.
    """
    db = root / SANDBOX_DB
    with ExitStack() as stack:
        if child is None and not is_small(root):
            child = stack.enter_context(SandboxChild())  # it starts while we prepare
        token = _prepare_sandbox(db, root / SANDBOX_SEED, config.expert)
        if child is None:
            from reconciler.sandbox.server import ThreadedSandbox

            url = stack.enter_context(ThreadedSandbox(db)).url
        else:
            child.serve(db)
            url = child.url
        # The embedded sandbox is the kind `reconciler` on 127.0.0.1, made as any other.
        block = PlatformBlock.of(DEFAULT_KIND, {"url": url, "token_env": _SANDBOX_TOKEN})
        platform = stack.enter_context(closing(create_platform(block, {_SANDBOX_TOKEN: token})))
        try:
            yield platform
        except TransportError as exc:
            code = None if child is None else child.exit_code()
            if code is not None:  # the real cause: the sandbox stopped serving
                raise ConfigError(
                    f"the embedded sandbox stopped (exit code {code}); its error, "
                    f"if any, is above. {exc.message}"
                ) from exc
            raise


def _prepare_sandbox(db: Path, seed: Path, expert: str) -> str:
    """Create and seed the database on first use; the expert's token.

    A new database is made under a temporary name and renamed into place only once it
    is seeded: a bad seed, an interrupt or a kill leaves no half-made sandbox that the
    next command would take for a seeded one.
    """
    from reconciler.sandbox.seed_mark import mark_seed, seed_changed  # not the seed's models
    from reconciler.sandbox.store import SandboxStore

    if db.exists():
        if seed_changed(db, seed):  # an edit that has no effect, unless said
            log.warning(
                "%s changed since the embedded sandbox was made from it; the sandbox "
                "keeps its own state, so the change has no effect: `reconciler sandbox "
                "seed %s` loads it, `rm -r %s` starts the sandbox again from it",
                SANDBOX_SEED,
                SANDBOX_SEED,
                SANDBOX_DB.parent,
            )
        with SandboxStore(db) as store:
            store.ensure_account(expert, AccountKind.EXPERT)
            return store.token_for(expert)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only checkout
        raise ConfigError(
            f"cannot make the embedded sandbox's folder {db.parent}: {exc.strerror}; the "
            "embedded sandbox keeps its database there (give reconciler.yaml a platform: "
            "block to use another platform)"
        ) from exc
    building = db.with_name(f"{db.name}.new-{os.getpid()}")
    try:
        with SandboxStore(building) as store:
            _seed(store, seed)
            store.ensure_account(expert, AccountKind.EXPERT)
            token = store.token_for(expert)
        os.replace(building, db)  # closed: its write-ahead log is folded in and gone
        mark_seed(db, seed)
    finally:
        for leftover in (building, *(building.with_name(building.name + x) for x in _WAL)):
            leftover.unlink(missing_ok=True)
    return token


_WAL = ("-wal", "-shm", "-journal")

_SANDBOX_TOKEN = "RECONCILER_EMBEDDED_SANDBOX_TOKEN"  # the variable of a block no file holds


def _seed(store: SandboxStore, seed: Path) -> None:
    """Seed from the repository's sandbox.seed.yaml, a file that must be inside it."""
    from reconciler.sandbox.seed import seed_file

    if seed.is_symlink() or seed.exists():
        log.info("seeding the embedded sandbox from %s", seed.name)
        seed_file(store, seed, root=seed.parent)


def check_identity(platform: Platform, expert: str) -> None:
    """Refuse a platform that acts for someone else than the expert. Without an identity
    API, the expert named in reconciler.yaml is taken for the caller (the plan says so)."""
    if Capability.IDENTITY not in platform.capabilities:
        return
    caller = platform.identity()
    if caller != expert:
        raise ConfigError(
            f"the platform token belongs to {caller}, but reconciler.yaml says the expert "
            f"is {expert}; use the expert's token or correct `expert:`"
        )


def interest_in(expert: str, sites: Iterable[DesiredSite], people: People) -> Interest:
    """What the repository names: every address of its site files and people.yaml
    (people who left included), but the expert's, and the sites whose package it manages."""
    addresses = {person.email for person in people.by_handle.values()}
    packages = set()
    for site in sites:
        addresses.add(site.owner)
        if site.billing_contact is not None:
            addresses.add(site.billing_contact)
        addresses.update(site.collaborators or {})
        addresses.update(site.departed)
        if site.package is not None:
            packages.add(site.id)
    return Interest(expert, frozenset(addresses - {expert}), frozenset(packages))


def observe(platform: Platform, interest: Interest | None = None) -> dict[str, ObservedSite]:
    """Every site the expert can see, one request per page; a platform that reads by
    address is told ``interest`` first."""
    if interest is not None and platform.traits.reads_by_address:
        platform.attend(interest)
    with bulk():  # as many long-lived sites as the platform lists: see reconciler.heap
        return {site.id: site for site in platform.sites()}
