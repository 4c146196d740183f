"""The rules of the files an expert writes (DESIGN.md section 3), as pure functions.

Documents (plain data with locations) go in; the configuration, the people and the
desired state of each site come out, together with every problem found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeGuard, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.addresses import LookAlikes, plain_address
from reconciler.desired.config import HANDLE_PATTERN, Config, People, Person
from reconciler.desired.problems import Problem, Severity
from reconciler.desired.yamldoc import Document, KeyPlaces, Path_
from reconciler.explain import describe, explain_errors
from reconciler.model import (
    COLLABORATOR_CAP,
    EXPERT_KEYWORD,
    SITE_ID_PATTERN,
    DesiredSite,
    Location,
    Package,
    Role,
    email_domain,
    normalise_email,
    trusted_site,
)
from reconciler.platform.kinds import DEFAULT_KIND, PlatformBlock

ModelT = TypeVar("ModelT", bound=BaseModel)


class SiteFile(BaseModel):
    """A site file as written: ``sites/<id>.yaml``. Keys left out are not managed."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Site",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    id: str = Field(
        pattern=SITE_ID_PATTERN,
        description="The platform's site id; must equal the file name without .yaml",
        examples=["acme-bakery"],
    )
    name: str | None = Field(default=None, description="Informative name of the site")
    owner: str = Field(
        min_length=1,
        description="Who owns the site: an e-mail, a handle from people.yaml, or `expert`",
        examples=["expert", "anna@acme-bakery.example"],
    )
    billing_contact: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Who receives invoices; leave out to leave it as it is (a handover still moves "
            "it to the client). Must belong to the owning party: "
            "the owner's address or another address on the owner's e-mail domain"
        ),
    )
    collaborators: dict[str, Role] | None = Field(
        default=None,
        description=(
            "Everyone but the owner who has access, as e-mail or handle -> role. "
            "Leave the key out to leave access as it is; `{}` means nobody but the owner"
        ),
    )
    package: Package | None = Field(
        default=None,
        description="The package the site should have; leave out to leave it alone",
    )
    ask_again_after: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "A handover that was declined or expired is not started again until the file "
            "asks again: the id of that transfer, as `reconciler plan` names it"
        ),
        examples=["tr_8f2c1a"],
    )


@dataclass
class Inspection:
    """What inspecting the repository found: usable values and every problem."""

    config: Config | None = None
    platform: PlatformBlock | None = None  # as written, also when the config is invalid
    people: People = field(default_factory=People)
    sites: list[DesiredSite] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_model(
    model: type[ModelT], document: Document, data: Any, prefix: Path_ = ()
) -> ModelT | list[Problem]:
    """Validate ``data`` (found at ``prefix`` in ``document``) against ``model``.

    Each problem points at the offending key or value.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return [
            Problem(
                location=document.key_at(found.at) if found.at_key else document.value_at(found.at),
                message=found.message,
            )
            for found in explain_errors(model, exc, prefix)
        ]


Checked = tuple[str, str | None, Package | None, str | None]
"""A valid site file's id, name, package and ``ask_again_after``: what its desired site
takes as written (a plain tuple: one is made for each of thousands of files)."""


_SITE_KEYS = frozenset(SiteFile.model_fields)
_SITE_ID = re.compile(SITE_ID_PATTERN)
_PACKAGES = {package.value: package for package in Package}


def plainly_valid(data: dict[str, Any]) -> Checked | None:
    """The checked values of a site file every value of which is plainly of its type
    (text, a known package, a mapping of text to known roles), and none empty; None
    for any other file, which ``SiteFile`` then checks and explains.

    It accepts only what ``SiteFile`` accepts (a narrower check, for the common case of
    a valid file, at half the cost of pydantic's), so the outcome is the same.
    """
    if not _SITE_KEYS.issuperset(data):
        return None
    site_id, owner = data.get("id"), data.get("owner")
    if type(site_id) is not str or type(owner) is not str or not owner:
        return None
    if _SITE_ID.fullmatch(site_id) is None or not _plain_text(data.get("billing_contact", "-")):
        return None
    name, again = data.get("name", _ABSENT), data.get("ask_again_after", _ABSENT)
    if name is not _ABSENT and type(name) is not str:
        return None
    if again is not _ABSENT and not _plain_text(again):
        return None
    package = data.get("package", _ABSENT)
    if package is not _ABSENT:
        package = _PACKAGES.get(package) if type(package) is str else None
        if package is None:
            return None
    if not _plain_roles(data.get("collaborators", _ABSENT)):
        return None
    return (
        site_id,
        None if name is _ABSENT else name,
        None if package is _ABSENT else package,
        None if again is _ABSENT else again,
    )


_ABSENT: Any = object()  # a key left out, told apart from one written with no value


def _plain_text(value: Any) -> bool:
    return type(value) is str and value != ""


def _plain_roles(written: Any) -> bool:
    """``collaborators`` left out, or a mapping of text to roles."""
    if written is _ABSENT:
        return True
    if type(written) is not dict:
        return False
    for key, role in written.items():
        if type(key) is not str or type(role) is not str or role not in _ROLES:
            return False
    return True


def _checked(data: dict[str, Any], document: Document) -> tuple[Checked | None, list[Problem]]:
    """The checked values of a site file (None if it is invalid) and its problems so far:
    its structure's, its name's and its empty values'."""
    checked = plainly_valid(data)
    if checked is not None:  # no value is empty
        return checked, _file_name_problems(data, document)
    model = check_model(SiteFile, document, data)
    problems = model if isinstance(model, list) else []
    problems += _file_name_problems(data, document)
    problems += _empty_value_problems(data, document)
    if isinstance(model, list):
        return None, problems
    return (model.id, model.name, model.package, model.ask_again_after), problems


@dataclass(frozen=True)
class ConfigRead:
    """reconciler.yaml as read: the configuration (None when invalid), its ``platform``
    block even then (its kind's factory checks it, see operations/configuration.py),
    and the problems found so far."""

    config: Config | None
    platform: PlatformBlock | None
    problems: list[Problem]


def read_config(document: Document) -> ConfigRead:
    """reconciler.yaml. Its ``platform`` block is kept as plain data with its locations."""
    if not isinstance(document.data, dict):
        return ConfigRead(None, None, [_not_a_mapping(document)])
    data = dict(document.data)
    block = platform_block(document, data.pop("platform", None))
    config = check_model(Config, document, data)
    problems = config if isinstance(config, list) else []
    if isinstance(block, Problem):
        return ConfigRead(None, None, [block, *problems])
    if isinstance(config, list):
        return ConfigRead(None, block, problems)
    return ConfigRead(config.model_copy(update={"platform": block}), block, [])


KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")


def platform_block(document: Document, data: Any) -> PlatformBlock | Problem | None:
    """The ``platform`` block, ``kind`` taken out (default: ``reconciler``)."""
    if data is None:
        return None
    where = ("platform",)
    if not isinstance(data, dict):
        return Problem(
            location=document.value_at(where),
            message=f"platform: must be a mapping, not {describe(data)}",
        )
    settings = dict(data)
    kind = settings.pop("kind", DEFAULT_KIND)
    if not isinstance(kind, str) or not KIND_PATTERN.match(kind):
        return Problem(
            location=document.value_at((*where, "kind")),
            message=f"platform.kind: {describe(kind)} is not a platform kind's name "
            "(lower-case letters, digits, - and _)",
        )
    inside = len(where)
    return PlatformBlock(
        kind=kind,
        data=settings,
        start=document.value_at(where),
        key_locations=_below(document.key_locations, where, inside),
        value_locations=_below(document.value_locations, where, inside),
    )


def _below(locations: Mapping[Path_, Location], where: Path_, inside: int) -> dict[Path_, Location]:
    return {
        path[inside:]: at
        for path, at in locations.items()
        if path[:inside] == where and len(path) > inside
    }


def read_people(
    document: Document,
    problems: list[Problem],
    expert: str | None = None,
    today: date | None = None,
) -> People:
    """The valid entries of people.yaml; the problems of the others go to ``problems``.

    Keeping the valid handles avoids a cascade of "unknown handle" errors in site files.
    An address that looks like the expert's or an earlier person's is an error, and so
    is a ``left:`` day later than ``today`` (UTC; the caller's clock).
    """
    if not isinstance(document.data, dict):
        problems.append(_not_a_mapping(document))
        return People()
    people: dict[str, Person] = {}
    known = {} if expert is None else {expert: "the expert's own address"}
    shapes = LookAlikes(known)
    for handle, entry in document.data.items():
        if _people_look_alike(document, handle, entry, (known, shapes), problems):
            continue
        if not _is_handle(handle):
            problems.append(
                Problem(
                    location=document.key_at((handle,)),
                    message=f"handle {handle!r} must start with a lower-case letter and use "
                    "only a-z, 0-9, '.', '_' and '-'",
                )
            )
            continue
        checked = check_model(Person, document, entry, (handle,))
        if isinstance(checked, list):
            problems += checked
        else:
            people[handle] = checked  # kept when it left in future: no cascade of errors
            problems.extend(_left_in_future(document, handle, checked, today))
            if checked.email not in known:
                known[checked.email] = f"the address of {handle!r}"
                shapes.add(checked.email)
    return People(by_handle=people)


def _left_in_future(
    document: Document, handle: str, person: Person, today: date | None
) -> list[Problem]:
    """Offboarding takes effect when its line is merged: a later day would remove the
    person's access at once, not on that day, so it is refused."""
    if today is None or person.left is None or person.left <= today:
        return []
    return [
        Problem(
            location=document.value_at((handle, "left")),
            message=f"{handle}.left: {person.left.isoformat()} is later than today "
            f"({today.isoformat()}, UTC); offboarding takes effect when this line is "
            "merged, so write the day once it has come (leaving on a future day cannot "
            "be scheduled)",
        )
    ]


def _people_look_alike(
    document: Document,
    handle: str,
    entry: Any,
    seen: tuple[dict[str, str], LookAlikes],
    problems: list[Problem],
) -> bool:
    known, shapes = seen
    written = entry.get("email") if isinstance(entry, dict) else None
    found = shapes.passed_for(written) if isinstance(written, str) else None
    if found is None:
        return False
    other, tell = found
    problems.append(
        Problem(
            location=document.value_at((handle, "email")),
            message=f"{written!r} looks like {known[other]} {other} but is another one (it "
            f"has {tell or 'a look-alike character'}); write {other} if that is meant",
        )
    )
    return True


def _is_handle(handle: str) -> bool:
    return re.match(HANDLE_PATTERN, handle) is not None


def _not_a_mapping(document: Document) -> Problem:
    return Problem(
        location=document.start,
        message=f"must hold a YAML mapping (key: value), not {describe(document.data)}",
    )


_OWNER = ("owner",)
_BILLING = ("billing_contact",)


def _text(value: Any) -> TypeGuard[str]:
    """Text of at least one character: a person's place written with something in it."""
    return isinstance(value, str) and value != ""


_ROLE_IN_FILE = {"owner": "the owner", "billing_contact": "the billing contact"}


def _place(document: Document, path: Path_) -> Location:
    """Where a person is written in a site file: its key in a mapping (a collaborator),
    else its value; asked for only when a problem names it."""
    if len(path) > 1:
        return document.key_at(path)
    return document.value_at(path)


class SiteResolver:
    """Turns checked site files into desired sites: handles, ``expert`` and party rules."""

    def __init__(self, config: Config | None, people: People) -> None:
        self.config = config
        self.people = people
        self.departed = people.departed()
        self._handles = people.by_handle
        self._seen: dict[str, str] = {}  # the file's addresses so far, and what they are
        self._shapes: LookAlikes | None = None  # the expert's and _seen's, by their looks
        # Whether the expert's address is plain ASCII (see ``plain_address``), and then
        # whether the file's addresses so far are too: until one is not, no address can
        # pass for another, and no index of their looks is made.
        self._expert_plain = config is None or plain_address(config.expert)
        self._all_plain = self._expert_plain

    def resolve(
        self, document: Document, warnings: list[Problem] | None = None
    ) -> DesiredSite | list[Problem]:
        """The desired site, or every problem of the file (structure and meaning).

        Warnings about a valid file (it needs no change to load) go to ``warnings``.
        """
        warnings = [] if warnings is None else warnings
        self._seen = {}
        self._shapes = None
        self._all_plain = self._expert_plain
        data = document.data
        if not isinstance(data, dict):
            return [_not_a_mapping(document)]
        checked, problems = _checked(data, document)
        if self.config is None:
            # Without a usable reconciler.yaml, `expert` cannot be resolved; the
            # configuration's own problems are reported instead.
            return problems
        resolved = self._resolve_people(data, document, problems)
        if problems or checked is None or resolved is None:
            return problems
        owner, billing, collaborators = resolved
        site_id, name, package, again = checked
        if collaborators is not None and self.departed:  # else it is the file's own, as it is
            collaborators = {e: r for e, r in collaborators.items() if e not in self.departed}
        # Every value was checked above; constructing without validating again keeps
        # validation of thousands of files fast.
        site = trusted_site(
            {
                "id": site_id,
                "name": name,
                "owner": owner,
                "billing_contact": billing,
                "collaborators": collaborators,
                "package": package,
                "ask_again_after": again,
                "source": document.start,
                "locations": _locations_of(document),
                "departed": self.departed,
            }
        )
        warnings.extend(_over_cap_warnings(site, document))
        return site

    def _resolve_people(
        self, data: dict[str, Any], document: Document, problems: list[Problem]
    ) -> tuple[str, str | None, dict[str, Role] | None] | None:
        """Owner, billing contact and collaborators as e-mails, checked for the rules.

        Works on the raw data so that a wrong role does not hide an unknown handle.
        """
        owner, billing = data.get("owner"), data.get("billing_contact")
        owner = self._person(owner, document, _OWNER, problems) if _text(owner) else None
        billing = self._person(billing, document, _BILLING, problems) if _text(billing) else None
        collaborators = self._collaborators(data.get("collaborators"), document, problems)
        if owner is None:
            return None
        self._check_owner_not_collaborator(owner, collaborators, document, problems)
        if billing is not None:
            self._check_billing_party(owner, billing, document, problems)
        return owner, billing, collaborators

    def _person(
        self, written: str, document: Document, path: tuple[str, ...], problems: list[Problem]
    ) -> str | None:
        assert self.config is not None
        if written == EXPERT_KEYWORD:
            return self.config.expert
        if "@" in written:
            email = self._email(written, document, path, problems)
        else:
            person = self._handles.get(written)
            email = None if person is None else person.email
            if email is None:
                problems.append(
                    Problem(
                        location=_place(document, path),
                        message=f"unknown handle {written!r}; add it to people.yaml or write "
                        "an e-mail address",
                    )
                )
            elif self._passes_for_another(written, email, (document, path), problems):
                return None
        if email is not None and email not in self._seen:
            self._seen[email] = _ROLE_IN_FILE.get(path[0], "a collaborator")
            if self._shapes is not None:
                self._shapes.add(email)
            elif not plain_address(email):
                self._all_plain = False  # _looks() indexes it with the rest of _seen
        return email

    def _email(
        self, written: str, document: Document, path: Path_, problems: list[Problem]
    ) -> str | None:
        if self._passes_for_another(written, written, (document, path), problems):
            return None
        try:
            return normalise_email(written)
        except ValueError as exc:
            problems.append(Problem(location=_place(document, path), message=str(exc)))
            return None

    def _passes_for_another(
        self, written: str, email: str, place: tuple[Document, Path_], problems: list[Problem]
    ) -> bool:
        """Whether ``email`` looks like the expert's or another address of the file
        without being it (a Cyrillic letter, a look-alike domain): an error naming both."""
        assert self.config is not None
        if self._shapes is None and self._all_plain and plain_address(email):
            return False  # LookAlikes' answer while every address is plain, without one
        found = self._looks().passed_for(email)
        if found is None:
            return False
        known = {self.config.expert: "", **self._seen}
        other, tell = found
        what = (
            f"the expert's own address {other}" if not known[other] else f"{other} ({known[other]})"
        )
        problems.append(
            Problem(
                location=_place(*place),
                message=f"{written!r} looks like {what} but is another one (it has "
                f"{tell or 'a look-alike character'}); write {other} if that is meant",
            )
        )
        return True

    def _looks(self) -> LookAlikes:
        """The expert's address and the file's so far, indexed by their looks; one index
        a file, grown as addresses are seen (not made again for each)."""
        if self._shapes is None:
            assert self.config is not None
            self._shapes = LookAlikes((self.config.expert, *self._seen))
        return self._shapes

    def _collaborators(
        self, written_map: Any, document: Document, problems: list[Problem]
    ) -> dict[str, Role] | None:
        if not isinstance(written_map, dict):
            return None
        resolved: dict[str, Role] = {}
        written_as: dict[str, str] = {}
        for written, role in written_map.items():
            path = ("collaborators", written)
            email = self._person(written, document, path, problems)
            if email is None:
                continue
            if email in written_as:
                problems.append(
                    Problem(
                        location=document.key_at(path),
                        message=f"{written!r} is {email}, already listed as "
                        f"{written_as[email]!r}; list each person once",
                    )
                )
                continue
            written_as[email] = written
            known = _ROLES.get(role) if isinstance(role, str) else None
            if known is not None:
                resolved[email] = known
        return resolved

    def _check_owner_not_collaborator(
        self,
        owner: str,
        collaborators: Mapping[str, Role] | None,
        document: Document,
        problems: list[Problem],
    ) -> None:
        if collaborators is None or owner not in collaborators or self.config is None:
            return
        expert = self.config.expert
        written = next(
            key
            for key in document.data["collaborators"]
            if self.people.resolve(key, expert) == owner
        )
        problems.append(
            Problem(
                location=document.key_at(("collaborators", written)),
                message=f"the owner {owner} is listed as a collaborator; the owner has "
                "full access already, remove this line",
            )
        )

    def _check_billing_party(
        self, owner: str, billing: str, document: Document, problems: list[Problem]
    ) -> None:
        assert self.config is not None
        expert = self.config.expert
        party = "the expert" if owner == expert else "the client"
        if not billing_outside_party(owner, billing, expert):
            return
        problems.append(
            Problem(
                location=document.value_at(("billing_contact",)),
                message=f"billing contact {billing} is outside the owning party: {party} "
                f"({owner}) owns this site, so invoices go to {owner} or another address "
                f"on @{email_domain(owner)}",
            )
        )


def billing_outside_party(owner: str, billing: str, expert: str) -> bool:
    """Whether validate refuses ``billing`` as the billing contact of a site ``owner``
    owns: it must be the owner's address or one on the owner's domain, and never the
    expert's while a client owns the site (DESIGN section 3)."""
    same_party = billing == owner or email_domain(billing) == email_domain(owner)
    crosses = owner != expert and billing == expert
    return crosses or not same_party


_ROLES = {role.value: role for role in Role}  # a lookup, cheaper than calling Role


def _over_cap_warnings(site: DesiredSite, document: Document) -> list[Problem]:
    """The file's collaborators against the cap of the package the same file names."""
    if site.collaborators is None or site.package is None:
        return []
    cap, count = COLLABORATOR_CAP[site.package], len(site.collaborators)
    if count <= cap:
        return []
    return [
        Problem(
            location=document.key_at(("collaborators",)),
            message=f"{count} collaborators, but the {site.package.value} package allows "
            f"{cap}; the platform refuses the rest: list at most {cap} or name a package "
            "that allows more",
            severity=Severity.WARNING,
        )
    ]


NO_VALUE_REFUSED = {  # key -> what to write instead; the JSON Schema refuses null there too
    "collaborators": "write `collaborators: {}` for nobody but the owner, or remove the "
    "key to leave access as it is",
    "billing_contact": "remove the key for the owner, or write an address",
    "package": "remove the key to leave the package alone, or write free or premium",
    "name": "remove the key or write the name",
}


def _empty_value_problems(data: dict[str, Any], document: Document) -> list[Problem]:
    """``collaborators:`` with nothing after it reads as "not managed", which is rarely
    what the writer meant (e.g. every entry commented out): say so instead of guessing."""
    return [
        Problem(location=document.key_at((key,)), message=f"{key} has no value; {hint}")
        for key, hint in NO_VALUE_REFUSED.items()
        if key in data and data[key] is None
    ]


def _file_name_problems(data: dict[str, Any], document: Document) -> list[Problem]:
    site_id, stem = data.get("id"), _stem(document.file)
    if not isinstance(site_id, str) or site_id == stem:
        return []
    if re.fullmatch(SITE_ID_PATTERN, site_id) is None:
        return []  # the id's own problem says what to write; no file may take its name
    return [
        Problem(
            location=document.value_at(("id",)),
            message=f"id {site_id!r} differs from the file name {stem!r}; rename "
            f"the file to {site_id}.yaml or change the id",
        )
    ]


def _locations_of(document: Document) -> KeyPlaces:
    """Where each key was written, by dotted name."""
    return KeyPlaces(document.key_locations)


class UniqueIds:
    """One file per site: ``x.yaml`` beside ``x.yml`` declares site ``x`` twice.

    Checked as the files are read, keeping only each site's first file name, not the
    documents until every file is read.
    """

    def __init__(self) -> None:
        self._first: dict[str, str] = {}
        self.problems: list[Problem] = []

    def add(self, file: str, where: Location | None) -> None:
        """The file ``file``, whose id was written at ``where`` (None: nowhere)."""
        first = self._earlier(file)
        if first is not None:
            self._twice(file, first, where)

    def add_document(self, document: Document) -> None:
        """``add`` of a document's file and where its id is, looked up only for the
        second file of a site (a ``Location`` made for each of thousands of files
        would be thrown away)."""
        first = self._earlier(document.file)
        if first is not None:
            self._twice(document.file, first, document.value_locations.get(("id",)))

    def _earlier(self, file: str) -> str | None:
        """The file read before ``file`` for the same site, if any."""
        first = self._first.setdefault(_stem(file), file)
        return None if first is file else first

    def _twice(self, file: str, first: str, where: Location | None) -> None:
        self.problems.append(
            Problem(
                location=where or Location(file=file),
                message=f"site {_stem(file)!r} is already declared in {first}; "
                "keep one file per site",
            )
        )


def check_unique_ids(documents: Iterable[Document]) -> list[Problem]:
    """One file per site, over documents read already (see ``UniqueIds``)."""
    ids = UniqueIds()
    for document in documents:
        ids.add(document.file, document.value_locations.get(("id",)) or document.start)
    return ids.problems


def _stem(file: str) -> str:
    """``PurePath(file).stem`` by string operations: it runs twice for every site file."""
    name = file.rpartition("/")[2]
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name
