"""Writing site files without losing what people wrote: ruamel.yaml's round-trip mode.

Comments, key order and the formatting of untouched parts survive ``fmt`` and ``import``.
The canonical layout: keys in the order of the site file model, e-mail addresses in
lower case, collaborators sorted.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from reconciler.desired.config import SITES_DIR
from reconciler.desired.loader import guard, iter_yaml_files, sites_folder
from reconciler.desired.reading import FILE_LIMIT, FileRefused, NotUtf8, not_a_link, read_text
from reconciler.errors import ReconcilerError

KEY_ORDER = (
    "id",
    "name",
    "owner",
    "billing_contact",
    "collaborators",
    "package",
    "ask_again_after",
)
MODELINE = "# yaml-language-server: $schema=../schema/site.schema.json"


class UnreadableSiteFile(ReconcilerError):
    """A site file that cannot be rewritten safely (not YAML, not a mapping)."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def read_site_text(path: Path, file: str, root: Path) -> str:
    """The text of a site file of the repository at ``root``; ``UnreadableSiteFile`` when
    it is not UTF-8, unreadable, too large or outside the repository (see ``reading``)."""
    try:
        return read_text(path, file, FILE_LIMIT, root=root)
    except NotUtf8 as exc:
        raise UnreadableSiteFile(f"{exc.message}; save it as UTF-8 first") from None
    except FileRefused as exc:
        raise UnreadableSiteFile(exc.message) from None


def writable_path(path: Path, file: str, root: Path) -> Path:
    """``path``, refused when it is a link: writing would change another file."""
    try:
        not_a_link(path, file, root)
    except FileRefused as exc:
        raise UnreadableSiteFile(exc.message) from None
    return path


def load_round_trip(text: str, file: str) -> CommentedMap:
    """The mapping of a site file, comments kept; within the loader's limits."""
    refused = guard(text, file)
    if refused is not None:  # the round-trip composer builds every node, recursively
        raise UnreadableSiteFile(
            f"{file} {refused.message}; fix it (see `reconciler validate`) first"
        )
    try:
        data = _yaml().load(text)
    except YAMLError:
        raise UnreadableSiteFile(
            f"{file} is not valid YAML; fix it (see `reconciler validate`) first"
        ) from None
    except RecursionError:  # the round-trip composer recurses once per nesting level
        raise UnreadableSiteFile(
            f"{file} nests too deeply; fix it (see `reconciler validate`) first"
        ) from None
    if not isinstance(data, CommentedMap):
        raise UnreadableSiteFile(f"{file} does not hold a mapping; fix it first")
    return data


def dump_round_trip(data: CommentedMap) -> str:
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def canonical(text: str, file: str) -> str:
    """The file in the canonical layout, comments kept."""
    data = load_round_trip(text, file)
    _lower_emails(data)
    collaborators = data.get("collaborators")
    if isinstance(collaborators, CommentedMap):  # first: its last entry holds comments too
        _reorder(collaborators, sorted(collaborators, key=str), parent=(data, "collaborators"))
    _reorder(data, KEY_ORDER)
    return dump_round_trip(data)


def _lower_emails(data: CommentedMap) -> None:
    for key in ("owner", "billing_contact"):
        value = data.get(key)
        if isinstance(value, str) and "@" in value and value != value.lower():
            data[key] = value.lower()
    collaborators = data.get("collaborators")
    if isinstance(collaborators, CommentedMap):
        for key in list(collaborators):
            if isinstance(key, str) and "@" in key and key != key.lower():
                _rename_key(collaborators, key, key.lower())


def _rename_key(mapping: CommentedMap, old: str, new: str) -> None:
    if new in mapping:
        raise UnreadableSiteFile(
            f"lists {old} and {new}, the same person; keep one (see `reconciler validate`)"
        )
    position = list(mapping).index(old)
    comment = mapping.ca.items.pop(old, None)
    value = mapping.pop(old)
    mapping.insert(position, new, value)
    if comment is not None:
        mapping.ca.items[new] = comment


def _reorder(
    mapping: CommentedMap, order: Any, *, parent: tuple[CommentedMap, Any] | None = None
) -> None:
    """Reorder keys in place: known keys in ``order`` first, then the rest as they were.

    ruamel keeps a full-line comment with the key *above* it (as the tail of that key's
    line); moved as they are, comments would describe the wrong key. So each key's tail
    is split into its own inline comment and the lines above the next key, and those
    lines move with the key they precede. The comments before the first key stay first
    unless the mapping is nested under ``parent`` (then they describe its first entry);
    the comments after the last key stay last.
    """
    old = list(mapping)
    wanted = [key for key in order if key in mapping]
    wanted += [key for key in mapping if key not in wanted]
    if old == wanted:
        return
    inline, above, trailing = _comments_by_key(mapping, old, nested=parent is not None)
    _move_keys(mapping, old, wanted)
    if parent is not None:
        _set_leading_text(mapping, parent, above.get(wanted[0], ""))
    elif above.get(wanted[0]):  # lines above the new first key join the file's header
        _append_header(mapping, above[wanted[0]])
    for key, following in zip(wanted, [*wanted[1:], None], strict=True):
        after = trailing if following is None else above.get(following, "")
        if following is not None and following == wanted[0]:
            after = ""
        _set_tail_text(mapping, key, inline[key] + after)


def _comments_by_key(
    mapping: CommentedMap, keys: list[Any], *, nested: bool
) -> tuple[dict[Any, str], dict[Any, str], str]:
    """Each key's inline comment, the comment lines above each key, and those after the
    last; a nested mapping's leading comments count as above its first key."""
    inline = {key: _split_tail(_tail_text(mapping, key))[0] for key in keys}
    above: dict[Any, str] = {}
    for before, key in itertools.pairwise(keys):
        above[key] = _split_tail(_tail_text(mapping, before))[1]
    trailing = _split_tail(_tail_text(mapping, keys[-1]))[1]
    leading = _leading_text(mapping) if nested else ""
    if leading:
        above[keys[0]] = leading + above.get(keys[0], "")
    return inline, above, trailing


def _move_keys(mapping: CommentedMap, old: list[Any], wanted: list[Any]) -> None:
    """Put the keys in the ``wanted`` order, each with its own comment entry."""
    items = [(key, mapping[key], mapping.ca.items.pop(key, None)) for key in wanted]
    for key in old:
        del mapping[key]
    for key, value, comment in items:
        mapping[key] = value
        if comment is not None:
            mapping.ca.items[key] = comment


def _tail_holder(mapping: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
    """Where the comments after ``key``'s value live: a nested mapping keeps them on its
    own last entry."""
    value = mapping[key]
    if isinstance(value, CommentedMap) and len(value) and value.fa.flow_style() is not True:
        return _tail_holder(value, list(value)[-1])
    return mapping, key


def _tail_text(mapping: CommentedMap, key: Any) -> str:
    holder, holder_key = _tail_holder(mapping, key)
    entry = holder.ca.items.get(holder_key)
    token = entry[2] if entry and len(entry) > 2 else None
    return str(token.value) if token is not None else ""


def _set_tail_text(mapping: CommentedMap, key: Any, text: str) -> None:
    holder, holder_key = _tail_holder(mapping, key)
    entry = holder.ca.items.setdefault(holder_key, [None, None, None, None])
    if not text or text == "\n":
        entry[2] = None
    elif entry[2] is not None:
        entry[2].value = text
    else:
        value = text if text.startswith(("#", "\n")) else "\n" + text
        entry[2] = CommentToken(value, CommentMark(0))


def _split_tail(text: str) -> tuple[str, str]:
    """A key's tail: its own inline comment (up to the line break) and the lines after."""
    if not text:
        return "", ""
    head, newline, rest = text.partition("\n")
    return head + newline, rest


def _leading_text(mapping: CommentedMap) -> str:
    """The comment lines before a nested mapping's first entry, each indented."""
    comment = mapping.ca.comment
    tokens = comment[1] if comment and len(comment) > 1 and comment[1] else []
    return "".join(" " * token.column + str(token.value) for token in tokens)


def _append_header(mapping: CommentedMap, text: str) -> None:
    token = CommentToken(text, CommentMark(0))
    if mapping.ca.comment is None:
        mapping.ca.comment = [None, [token]]
    elif mapping.ca.comment[1] is None:
        mapping.ca.comment[1] = [token]
    else:
        mapping.ca.comment[1].append(token)


def _set_leading_text(mapping: CommentedMap, parent: tuple[CommentedMap, Any], text: str) -> None:
    """Comment lines before a nested mapping's first entry (kept in two places)."""
    owner, key = parent
    entry = owner.ca.items.setdefault(key, [None, None, None, None])
    if not text:
        mapping.ca.comment = None
        entry[3] = None
        return
    first_line = text.split("\n", 1)[0]
    column = len(first_line) - len(first_line.lstrip(" "))
    token = CommentToken(text[column:], CommentMark(column))
    mapping.ca.comment = [None, [token]]
    entry[3] = [token]


@dataclass(frozen=True)
class SiteContent:
    """What import writes for a site; values as they should appear in the file."""

    id: str
    name: str
    owner: str
    billing_contact: str | None
    collaborators: Mapping[str, str]
    package: str | None  # None: the platform did not say (the file leaves it out)
    owner_comment: str | None = None  # e.g. which handover is pending, a billing contact left out
    name_known: bool = True  # False: ``name`` only stands in (a file's own name stays)


Resolve = Callable[[str], str | None]
"""Maps a written owner/handle/e-mail to an e-mail address (None when unknown)."""


def new_site_text(content: SiteContent, *, modeline: bool = True) -> str:
    """A new site file; ``modeline``: its first line names the schema (for editors),
    where the repository holds ``schema/site.schema.json``."""
    data = CommentedMap()
    if modeline:
        data.yaml_set_start_comment(MODELINE.removeprefix("# "))
    _fill(data, content)
    return dump_round_trip(data)


def updated_site_text(text: str, file: str, content: SiteContent, resolve: Resolve) -> str:
    """``text`` with the values of ``content``; values that already mean the same stay.

    Keys the file leaves out stay out: the file does not manage them.
    """
    data = load_round_trip(text, file)
    _set_scalar(data, "id", content.id, lambda v: v)
    if "name" in data and content.name_known:
        _set_scalar(data, "name", content.name, lambda v: v)
    _set_scalar(data, "owner", content.owner, resolve)
    if content.owner_comment is not None:
        _set_inline_comment(data, "owner", content.owner_comment)
    if content.billing_contact is None:
        _drop_billing_if_owner(data, resolve)
    elif "billing_contact" in data or resolve(content.billing_contact) != resolve(content.owner):
        # A file that leaves out a billing contact equal to the owner keeps it out.
        _set_scalar(data, "billing_contact", content.billing_contact, resolve)
    if "collaborators" in data:
        _set_collaborators(data, content.collaborators, resolve)
    if "package" in data and content.package is not None:
        _set_scalar(data, "package", content.package, lambda v: v)
    _reorder(data, KEY_ORDER)
    return dump_round_trip(data)


def _fill(data: CommentedMap, content: SiteContent) -> None:
    data["id"] = content.id
    data["name"] = content.name
    data["owner"] = content.owner
    if content.owner_comment is not None:
        _set_inline_comment(data, "owner", content.owner_comment)
    if content.billing_contact is not None:
        data["billing_contact"] = content.billing_contact
    collaborators = CommentedMap()
    for key in sorted(content.collaborators, key=str):  # as `fmt` sorts them
        collaborators[key] = content.collaborators[key]
    data["collaborators"] = collaborators
    if content.package is not None:
        data["package"] = content.package


def _set_scalar(data: CommentedMap, key: str, value: str, resolve: Resolve) -> None:
    current = data.get(key)
    if isinstance(current, str) and resolve(current) == resolve(value):
        return
    data[key] = value


def _drop_billing_if_owner(data: CommentedMap, resolve: Resolve) -> None:
    current, owner = data.get("billing_contact"), data.get("owner")
    if current is None:
        return
    if not (isinstance(current, str) and isinstance(owner, str)) or resolve(current) != resolve(
        owner
    ):
        del data["billing_contact"]


def _set_collaborators(data: CommentedMap, wanted: Mapping[str, str], resolve: Resolve) -> None:
    current = data.get("collaborators")
    if not isinstance(current, CommentedMap):
        current = CommentedMap()
        data["collaborators"] = current
    wanted_by_email = {resolve(key): (key, role) for key, role in wanted.items()}
    kept: Any = None  # the last collaborator kept so far
    for key in list(current):
        email = resolve(str(key))
        if email not in wanted_by_email:
            _delete_keeping_comments(data, current, key, kept)
            continue
        kept = key
        _, role = wanted_by_email.pop(email)
        if current[key] != role:
            current[key] = role
    if not current:
        # Emptied: a fresh mapping, or ruamel would write the comments it held between
        # `collaborators:` and `{}`, which is not YAML. The comments stay on the key.
        current = CommentedMap()
        if not wanted_by_email:
            current.fa.set_flow_style()
        data["collaborators"] = current
    for key, role in sorted(wanted_by_email.values()):
        current[key] = role


def _delete_keeping_comments(
    parent: CommentedMap, collaborators: CommentedMap, key: Any, previous: Any
) -> None:
    """Delete a collaborator; the comment lines below it (about the next line, or the
    end of the file) stay, after the previous collaborator or under ``collaborators:``."""
    lines = _comment_lines_after(collaborators, key)
    del collaborators[key]
    collaborators.ca.items.pop(key, None)
    if not lines:
        return
    if previous is not None:
        _append_comment_lines(collaborators, previous, lines)
    else:
        _append_comment_lines(parent, "collaborators", lines)


def _comment_lines_after(mapping: CommentedMap, key: Any) -> str:
    """Split the whole-line comments that follow ``key``'s line off its comment."""
    entry = mapping.ca.items.get(key)
    token = entry[2] if entry is not None and len(entry) > 2 else None
    if not isinstance(token, CommentToken):
        return ""
    inline, newline, rest = token.value.partition("\n")
    token.value = inline + newline
    return str(rest)


def _append_comment_lines(mapping: CommentedMap, key: Any, lines: str) -> None:
    entry = mapping.ca.items.setdefault(key, [None, None, None, None])
    token = entry[2]
    if isinstance(token, CommentToken):
        token.value = (token.value if token.value.endswith("\n") else token.value + "\n") + lines
    else:
        entry[2] = CommentToken("\n" + lines, CommentMark(0), None)


def _set_inline_comment(data: CommentedMap, key: str, text: str) -> None:
    """``key``'s end-of-line comment says ``text``; a comment of the same kind (the same
    first words) is replaced, another is kept before it, and the comment lines below stay."""
    lines_below = _comment_lines_after(data, key)
    entry = data.ca.items.get(key)
    token = entry[2] if entry is not None and len(entry) > 2 else None
    old = token.value.strip().removeprefix("#").strip() if isinstance(token, CommentToken) else ""
    kind = " ".join(text.split()[:2])
    keep = "" if not old or old.startswith(kind) else old.split(f"; {kind}")[0] + "; "
    if entry is not None:
        entry[2] = None
    data.yaml_add_eol_comment(f"# {keep}{text}", key)
    if lines_below:
        _append_comment_lines(data, key, lines_below)


def format_files(root: Path, *, write: bool) -> tuple[list[Reformat], list[str]]:
    """Rewrite site files in the canonical layout (only compare them unless ``write``).

    Returns the files that change, with their text before and after, and the files
    that could not be read or written.
    """
    changed: list[Reformat] = []
    unreadable: list[str] = []
    for path in iter_yaml_files(sites_folder(root)):
        display = f"{SITES_DIR}/{path.name}"
        try:
            before = read_site_text(path, display, root)
            after = canonical(before, display)
        except UnreadableSiteFile as exc:
            unreadable.append(f"{display}: {exc.message}")
            continue
        if after != before:
            if write:
                try:
                    path.write_text(after, encoding="utf-8")
                except OSError as exc:  # a read-only checkout, a full disk
                    unreadable.append(f"{display}: cannot be written: {exc.strerror or exc}")
                    continue
            changed.append(Reformat(display, before, after))
    return changed, unreadable


@dataclass(frozen=True)
class Reformat:
    """A site file that ``fmt`` changes: its path from the root, its text before and after."""

    path: str
    before: str
    after: str
