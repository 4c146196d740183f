"""``import``: site files written from the platform's state (observed -> desired)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.config import SITES_DIR, Config, People
from reconciler.desired.loader import sites_folder
from reconciler.desired.sitefile import billing_outside_party
from reconciler.desired.writer import (
    SiteContent,
    load_round_trip,
    new_site_text,
    read_site_text,
    updated_site_text,
    writable_path,
)
from reconciler.errors import ConfigError
from reconciler.model import EXPERT_KEYWORD, ObservedSite, Role
from reconciler.operations.output import write_output
from reconciler.reconcile.changes import Note, NoteKind

SITE_SCHEMA = "schema/site.schema.json"


@dataclass
class ImportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


class Adopter:
    """Writes site files for sites that exist on the platform."""

    def __init__(self, root: Path, config: Config, people: People, *, billing: bool = True) -> None:
        """``billing``: the platform manages billing contacts (a platform without them,
        such as Duda, gets files that leave them out: there is nothing to manage)."""
        self.root = root
        self.config = config
        self.people = people
        self.billing = billing

    def import_sites(
        self, observed: Mapping[str, ObservedSite], site_ids: Collection[str] | None
    ) -> ImportReport:
        """Write ``sites/<id>.yaml`` for ``site_ids`` (all visible sites when None)."""
        wanted = sorted(observed) if site_ids is None else sorted(set(site_ids))
        missing = [site_id for site_id in wanted if site_id not in observed]
        if missing:
            raise ConfigError(
                f"not on the platform, or not visible to {self.config.expert}: "
                f"{', '.join(missing)}; check the ids (`reconciler plan` lists unmanaged sites)"
            )
        # Every file is computed before any is written: a file that cannot be updated
        # (not YAML, not UTF-8) stops the import with nothing half done.
        report = ImportReport()
        writes = [self._import_one(observed[site_id], report) for site_id in wanted]
        for path, text in writes:
            if text is not None:
                write_output(path, text, make_folders=True)
        return report

    def _import_one(self, site: ObservedSite, report: ImportReport) -> tuple[Path, str | None]:
        """The file of ``site`` and its new text (None when it stays as it is)."""
        path = self._path_of(site.id)
        display = f"{SITES_DIR}/{path.name}"
        content = self.content_of(site)
        before: str | None = None
        pending = site.pending_transfer
        if path.is_symlink() or path.exists():
            before = read_site_text(path, display, self.root)
            if pending is not None and self._declared_owner(before, display) == pending.to:
                # The file asks for exactly the handover under way: it stays as written,
                # or the next apply would cancel the transfer it asked for.
                report.unchanged.append(display)
                report.notes.append(
                    Note(
                        site=site.id,
                        kind=NoteKind.WAITING,
                        message=f"kept as written: it hands the site over to {pending.to}, "
                        "whose acceptance is pending",
                    )
                )
                return path, None
            after = updated_site_text(before, display, content, self.resolve)
        else:  # the schema named in a new file's first line, where the repository has it
            after = new_site_text(content, modeline=(self.root / SITE_SCHEMA).is_file())
        if pending is not None:
            cancel = (
                f"; write `owner: {EXPERT_KEYWORD}` instead to cancel the transfer"
                if site.owner == self.config.expert
                else ""
            )
            report.notes.append(
                Note(
                    site=site.id,
                    kind=NoteKind.WAITING,
                    message=f"the transfer to {pending.to} pending on the platform is kept: "
                    f"the file names {pending.to} as the owner, and `reconciler plan` waits "
                    f"for the acceptance{cancel}",
                )
            )
        if after == before:
            report.unchanged.append(display)
            return path, None
        report.written.append(display)
        return path, after

    def _declared_owner(self, text: str, display: str) -> str | None:
        owner = load_round_trip(text, display).get("owner")
        return self.resolve(owner) if isinstance(owner, str) else None

    def _path_of(self, site_id: str) -> Path:
        folder = sites_folder(self.root)
        for suffix in (".yaml", ".yml"):
            path = folder / f"{site_id}{suffix}"
            if path.is_symlink() or path.exists():
                return writable_path(path, f"{SITES_DIR}/{path.name}", self.root)
        return folder / f"{site_id}.yaml"

    def content_of(self, site: ObservedSite) -> SiteContent:
        """The file of ``site``. With a transfer pending, the file asks for exactly that
        handover (its recipient as owner, the former owner staying on if it will), so
        that `plan` waits for it instead of cancelling it; a comment says so."""
        pending = site.pending_transfer
        if pending is None:
            expert = self.config.expert
            refused = self.billing and billing_outside_party(
                site.owner, site.billing_contact, expert
            )
            return SiteContent(
                id=site.id,
                name=site.name,
                name_known=site.name_known,
                owner=self._written_owner(site.owner),
                billing_contact=self._written_owner(site.billing_contact)
                if self.billing and not refused
                else None,
                collaborators=self._written_roles(site.collaborators),
                package=site.package.value if site.package_known else None,
                owner_comment=f"billing contact left out: the platform's "
                f"{site.billing_contact} is outside the owning party, which validate "
                "refuses; the owner sets one of theirs"
                if refused
                else None,
            )
        after = {e: r.value for e, r in site.collaborators.items() if e != pending.to}
        if pending.stay_as_collaborator:
            after[site.owner] = Role.EDITOR.value  # as the platform keeps a former owner
        return SiteContent(
            id=site.id,
            name=site.name,
            name_known=site.name_known,
            owner=self._written_owner(pending.to),
            billing_contact=None,  # acceptance makes the recipient the billing contact
            collaborators=self._written_roles(after),
            package=site.package.value if site.package_known else None,
            owner_comment=f"handover pending since {pending.created_at:%Y-%m-%d}, "
            f"expires {pending.expires_at:%Y-%m-%d}; {site.owner} owns the site until then",
        )

    def _written_owner(self, email: str) -> str:
        return EXPERT_KEYWORD if email == self.config.expert else self._written(email)

    def _written_roles(self, roles: Mapping[str, object]) -> dict[str, str]:
        return {self._written(email): str(role) for email, role in sorted(roles.items())}

    def _written(self, email: str) -> str:
        """A people.yaml handle where there is one, else the e-mail address."""
        return self.people.handle_of(email) or email

    def resolve(self, written: str) -> str | None:
        """As the site files mean it; an unknown handle stands for itself."""
        return self.people.resolve(written, self.config.expert) or written


def describe_import(report: ImportReport) -> Iterable[str]:
    yield from (f"wrote {path}" for path in report.written)
    yield from (f"unchanged {path}" for path in report.unchanged)
    yield from (f"{note.site}: {note.kind.value}: {note.message}" for note in report.notes)
