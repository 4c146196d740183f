"""Which sites a plan or an apply covers: every site, ``--changed-since REF``,
``--since-last-apply`` or ``--site ID``... (DESIGN.md sections 5 and 7)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.reconcile.plan import ScopeKind

NO_BASE = (
    "--since-last-apply: no complete apply is recorded in this branch's first-parent "
    "history (a git note in refs/notes/reconciler with a block of scope all or "
    "since-last-apply, finished, nothing failed or held back). Run one full apply first "
    "(`reconciler apply`, or a manual run of the apply workflow from main); in a clone, "
    "fetch the notes first: `git fetch origin refs/notes/reconciler:refs/notes/reconciler`"
)


@dataclass(frozen=True)
class ScopeRequest:
    """The scope options of ``plan`` and ``apply``; at most one of them."""

    changed_since: str | None = None
    since_last_apply: bool = False
    sites: tuple[str, ...] = ()

    def check(self) -> None:
        given = [
            name
            for name, on in (
                ("--changed-since", self.changed_since is not None),
                ("--since-last-apply", self.since_last_apply),
                ("--site", bool(self.sites)),
            )
            if on
        ]
        if len(given) > 1:
            raise ConfigError(
                f"give one of {' and '.join(given)}, not both: each says which sites to cover"
            )

    @property
    def needs_git(self) -> bool:
        return self.changed_since is not None or self.since_last_apply


@dataclass(frozen=True)
class Scope:
    """The chosen sites (None: every site file), why, and how they were chosen."""

    sites: set[str] | None
    note: str | None
    kind: ScopeKind
    # Beyond a pull request's sites, those its merge's apply (--since-last-apply) also
    # covers; every other site when reconciler.yaml or people.yaml changed since then.
    also: set[str] | None = None
    also_every: bool = False

    def also_of(self, files: Collection[str]) -> set[str] | None:
        """The other sites the merge also applies, given every site file's id."""
        if self.also_every:
            return set(files) - (self.sites or set())
        return self.also


def resolve(root: Path, request: ScopeRequest) -> Scope:
    """The scope ``request`` names, read from git where it needs to be."""
    request.check()
    if request.sites:
        return Scope(
            set(request.sites),
            f"Sites named with --site: {', '.join(sorted(set(request.sites)))}.",
            ScopeKind.SITES,
        )
    if not request.needs_git:
        return Scope(None, None, ScopeKind.ALL)
    # Imported here: GitPython runs `git version` on import, a tenth of a second that a
    # plan of every site does not need.
    from reconciler.review.gitrepo import GitRepository

    with GitRepository.open(root) as repository:
        if request.since_last_apply:
            base = repository.last_complete_apply()
            if base is None:
                raise ConfigError(NO_BASE)
            return _since(repository.changed_scope(base), base, ScopeKind.SINCE_LAST_APPLY)
        assert request.changed_since is not None
        chosen = _since(
            repository.changed_scope(request.changed_since),
            request.changed_since,
            ScopeKind.CHANGED_SINCE,
        )
        base = repository.last_complete_apply()
        if base is None or chosen.sites is None:
            return chosen
        merged = _since(repository.changed_scope(base), base, ScopeKind.SINCE_LAST_APPLY)
        if merged.sites is None:
            return Scope(chosen.sites, chosen.note, chosen.kind, also_every=True)
        return Scope(chosen.sites, chosen.note, chosen.kind, merged.sites - chosen.sites)


def _since(found: tuple[set[str], list[str]], ref: str, kind: ScopeKind) -> Scope:
    sites, shared = found
    what = f"the last complete apply ({ref[:12]})" if kind is ScopeKind.SINCE_LAST_APPLY else ref
    if shared:
        files = " and ".join(shared)
        return Scope(None, f"{files} changed since {what}: every site is planned.", kind)
    return Scope(sites, f"Sites whose files changed since {what}: {len(sites)}.", kind)


def unknown_sites(request: ScopeRequest, files: Collection[str]) -> None:
    """``--site`` names only sites with a file: a site without one is never touched."""
    missing = sorted(set(request.sites) - set(files))
    if missing:
        raise ConfigError(
            f"--site {', '.join(missing)}: no such site file under sites/ (a site on the "
            "platform without a file is reported, never touched); check the id"
        )
