"""YAML files -> model, with file:line:column on every problem.

Parsing uses ruamel.yaml's composer, which keeps the position of every node, on top of
libyaml's C parser when it is installed: the round-trip loader is roughly twenty times
slower, and we only need positions, not comments, to validate. Nodes are turned into
plain data here, so that duplicate keys, aliases and odd tags are checked in one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    NodeEvent,
    StreamEndEvent,
)
from ruamel.yaml.loader import SafeLoader as _PureLoader
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from reconciler.desired import fastyaml
from reconciler.desired.config import CONFIG_FILE, PEOPLE_FILE, SITES_DIR, Config, People
from reconciler.desired.problems import Problem, Severity, ValidationFailed, errors_in
from reconciler.desired.reading import FILE_LIMIT, FileRefused, not_a_link, read_text
from reconciler.desired.sitefile import (
    ConfigRead,
    Inspection,
    SiteResolver,
    UniqueIds,
    read_config,
    read_people,
)
from reconciler.desired.yamldoc import Document, Mark, Path_, Positions
from reconciler.errors import ConfigError
from reconciler.heap import bulk
from reconciler.model import DesiredSite, Location

_Loader: Any
_fast_parse: Callable[[str], fastyaml.Parsed | None] | None = None
try:  # libyaml's C parser: fast, same nodes and marks as the pure-Python one
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    from ruamel.yaml.resolver import Resolver
except ImportError:  # pragma: no cover - the wheel ships it on CPython
    _Loader = _PureLoader
else:
    # The first characters for which YAML 1.2 resolves a plain scalar to something other
    # than text (null, bool, int, float, ...), '' included; any other scalar is text.
    _RESOLVED_FIRST = frozenset(Resolver.yaml_implicit_resolvers)
    _TEXT_TAG = Resolver.DEFAULT_SCALAR_TAG
    _FAST = None not in _RESOLVED_FIRST and not Resolver.yaml_path_resolvers

    class _Composer(CParser, Resolver):  # type: ignore[misc]
        """ruamel's CSafeLoader without its constructor (only nodes are composed here),
        and the resolver's answer for a scalar no rule applies to given at once: it is
        asked for every scalar of every file, and most are e-mails, ids and roles."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            Resolver.__init__(self, loadumper=self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if _FAST and kind is ScalarNode and not (implicit[0] and value[:1] in _RESOLVED_FIRST):
                return _TEXT_TAG  # what Resolver.resolve answers: no rule for this scalar
            return Resolver.resolve(self, kind, value, implicit)

    _Loader = _Composer

    if _FAST:
        _IMPLICIT = Resolver.yaml_implicit_resolvers

        def _plain_value(value: str) -> Any:
            """A plain scalar's value as ``_Composer.resolve`` and ``_scalar`` make it, for
            the fast path; ``UNSURE`` for a tag that ruamel's path would report."""
            rules = _IMPLICIT.get(value[0], ())
            tag = next((tag for tag, regexp in rules if regexp.match(value)), _STR_TAG)
            if tag not in _FAST_TAGS:
                return fastyaml.UNSURE
            return _scalar(tag, value)

        def _fast_parse(text: str) -> fastyaml.Parsed | None:
            return fastyaml.parse(text, _RESOLVED_FIRST, _plain_value)


MAX_DEPTH = 32
MAX_NODES = 100_000  # per file; aliases can make a small file expand without bound
_BOOL_TRUE = {"true", "yes", "on", "y"}
_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
# The tags YAML gives plain values by itself; any other tag (``!!python/object``,
# ``!!binary``, ``!custom``) asks for a type that site files do not have.
_PLAIN_TAGS = frozenset(
    _TAG + kind
    for kind in ("null", "bool", "int", "float", "str", "map", "seq", "timestamp", "merge")
)
# The scalars' tags the fast path takes (a timestamp stays text, as ``_scalar`` leaves it).
_FAST_TAGS = frozenset(_TAG + kind for kind in ("null", "bool", "int", "float", "str", "timestamp"))


class _Invalid(Exception):
    """A node that cannot be turned into data; carries the problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of reading one file: a document, or the problems that stopped it."""

    document: Document | None
    problems: tuple[Problem, ...] = ()


def read_yaml_file(
    path: Path | str, display: str, *, root: Path | None = None, max_bytes: int | None = None
) -> Parsed:
    """Read and parse one YAML file; ``display`` is the name shown in messages.

    With ``root``, the file is one the repository holds: it must resolve inside ``root``
    (see ``reading``). Its size is checked before it is read, against ``max_bytes`` (by
    default ``FILE_LIMIT``'s, read from the environment).
    """
    try:
        text = read_text(path, display, FILE_LIMIT, root=root, max_bytes=max_bytes)
    except FileRefused as exc:
        return _failed(display, 1, 1, exc.reason)
    return parse_yaml(text, display)


SITE_FILE_VALUES = "a site file holds a few"
"""How many values a site file holds, said when a file holds too many."""


def parse_yaml(
    text: str,
    file: str,
    *,
    max_nodes: int = MAX_NODES,
    usual: str = SITE_FILE_VALUES,
    allow_empty: bool = False,
) -> Parsed:
    """Parse one YAML document into a ``Document`` (a mapping is not required here).

    The one reader of YAML for data: site files, reconciler.yaml, people.yaml, past
    versions of them in git, and sandbox seed files. ``guard`` counts depth and values
    on the parser's events before any node is built, so neither a deep nesting (which
    would crash the C composer) nor a huge flow list (which would take gigabytes) is
    ever composed; aliases are counted again as they expand. ``usual`` says, in the
    refusal of too many values, how many such a file holds. An empty document is a
    problem unless ``allow_empty`` (then its data is None).
    """
    fast = _fast_document(text, file, max_nodes)
    if fast is not None:
        return fast
    refused = guard(text, file, max_nodes, usual) or _reused_anchor(text, file)
    if refused is not None:
        return Parsed(None, (refused,))
    return _composed(text, file, max_nodes, allow_empty=allow_empty)


def _fast_document(text: str, file: str, max_nodes: int) -> Parsed | None:
    """The document of a text in ``fastyaml``'s subset, read without composing it: the
    same data and marks as ``_composed`` gives, and no problem; None for any other text.

    ``guard`` and ``_reused_anchor`` would pass any text that this accepts: the subset
    has no anchors (``&`` only inside a scalar or a comment), nests at most
    ``fastyaml.MAX_LEVELS`` deep, and a text shorter than a third of ``max_nodes``
    characters cannot hold ``max_nodes`` values (``guard`` does not count such a text).
    """
    if _fast_parse is None:  # pragma: no cover - without libyaml, or another resolver
        return None
    if 3 * len(text) >= max_nodes:
        return None  # for ``guard`` to count
    fast = _fast_parse(text)
    if fast is None:
        return None
    data, keys, values = fast
    return Parsed(Document(file, data, Positions(file, keys), Positions(file, values)))


def _composed(text: str, file: str, max_nodes: int, *, allow_empty: bool) -> Parsed:
    """``text`` composed by ruamel, then built into a document: any YAML at all."""
    node = _node_of(text, file)
    if isinstance(node, Parsed):
        return node
    if node is None:
        if allow_empty:
            return Parsed(Document(file, None))
        return _failed(file, 1, 1, "is empty; it must hold a YAML mapping")
    return _built(node, file, max_nodes)


def _node_of(text: str, file: str) -> Node | Parsed | None:
    """The composed node tree of ``text``, or the problem that stopped it."""
    try:
        return _compose(text)
    except RecursionError:
        return _failed(file, 1, 1, f"nests deeper than {MAX_DEPTH} levels")
    except MarkedYAMLError as exc:
        return Parsed(None, (_syntax_problem(exc, file, text),))
    except ReaderError as exc:
        return _reader_problem(exc, text, file)
    except YAMLError as exc:
        return _failed(file, 1, 1, f"is not valid YAML: {_one_line(str(exc))}")


def _built(node: Node, file: str, max_nodes: int) -> Parsed:
    """Plain data with the location of every key and value, and the problems found."""
    builder = _Builder(file, max_nodes)
    try:
        data = builder.build(node, (), 0)
    except _Invalid as exc:
        return Parsed(None, (exc.problem,))
    except RecursionError:
        return _failed(file, 1, 1, "nests too deeply")
    document = Document(file, data, Positions(file, builder.keys), Positions(file, builder.values))
    return Parsed(document, tuple(builder.problems))


def guard(
    text: str, file: str, max_nodes: int = MAX_NODES, usual: str = SITE_FILE_VALUES
) -> Problem | None:
    """The check every reader of YAML makes before a composer runs: nesting depth and
    the number of values, if either is too much.

    The composers recurse once per level and build every node before a limit could be
    checked on the result. ``parse_yaml`` calls it first, and so does the writer before
    its round-trip load.
    """
    refused = _refuse_before_composing(text, max_nodes, usual)
    if refused is None:
        return None
    line, column, message = refused
    return Problem(location=Location(file=file, line=line, column=column), message=message)


def _refuse_before_composing(text: str, max_nodes: int, usual: str) -> tuple[int, int, str] | None:
    """Where and why ``text`` is refused before composing: too deep or too many values.

    The composers recurse once per level (libyaml's in C: a file of 100,000 ``[`` crashes
    the process) and build every node before anyone could count them, so both are
    counted first on the parser's events, which come one at a time without recursion.
    Only text that could break a limit is scanned: enough ``[{-?`` to nest that deep,
    or enough characters to hold that many values (each takes at least a third of one).
    """
    deep_enough = sum(text.count(c) for c in "[{-?") > MAX_DEPTH
    if not deep_enough and 3 * len(text) < max_nodes:
        return None
    parser = _Loader(text)
    depth = nodes = 0
    try:
        while not isinstance(event := parser.get_event(), StreamEndEvent):
            if isinstance(event, NodeEvent):
                nodes += 1
                if nodes > max_nodes:
                    message = f"holds more than {max_nodes} values; {usual}"
                    return _at(event, message)
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH + 1:  # the document's own mapping is level 0
                    return _at(event, f"nests deeper than {MAX_DEPTH} levels")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return None  # reported by the composer, with its message
    finally:
        _dispose(parser)
    return None


def _reused_anchor(text: str, file: str) -> Problem | None:
    """An anchor defined twice, which the composers only warn about (the later one wins,
    so an alias would silently mean the second value). Scanned with the parser that
    will compose the text: libyaml's, or the pure-Python one for what libyaml refuses."""
    if "&" not in text:
        return None
    try:
        return _reused_anchor_with(_Loader, text, file)
    except YAMLError:
        try:
            return _reused_anchor_with(_PureLoader, text, file)
        except (YAMLError, AttributeError):  # AttributeError: a %YAML directive, see _compose
            return None  # reported by the composer, with its message


def _reused_anchor_with(loader_class: Any, text: str, file: str) -> Problem | None:
    parser = loader_class(text)
    first_lines: dict[str, int] = {}
    try:
        while not isinstance(event := parser.get_event(), StreamEndEvent):
            anchor = getattr(event, "anchor", None)
            if anchor is None or isinstance(event, AliasEvent):
                continue
            line, column, _ = _at(event, "")
            if anchor in first_lines:
                message = (
                    f"anchor '&{anchor}' is defined twice (first at line "
                    f"{first_lines[anchor]}); give each anchor its own name"
                )
                return Problem(
                    location=Location(file=file, line=line, column=column), message=message
                )
            first_lines[anchor] = line
    finally:
        _dispose(parser)
    return None


def _at(event: Event, message: str) -> tuple[int, int, str]:
    mark = event.start_mark
    return mark.line + 1, mark.column + 1, message


def _compose(text: str) -> Node | None:
    """The node tree of ``text``.

    libyaml follows YAML 1.1 and refuses a few plain scalars that YAML 1.2 (and ruamel,
    which writes our files) allows, such as ``{name: :0}``; only for a file it refuses
    do we ask the slower pure-Python parser, whose error is reported if it refuses too.
    """
    try:
        return _compose_with(_Loader, text)
    except MarkedYAMLError as refused:
        if _Loader is _PureLoader:  # pragma: no cover - without libyaml
            raise
        try:
            return _compose_with(_PureLoader, text)
        except AttributeError:
            # ruamel 0.18's pure-Python scanner reads a %YAML directive into the new
            # API's doc_infos, which the old-API loader lacks: libyaml's refusal stands.
            raise refused from None


def _compose_with(loader_class: Any, text: str) -> Node | None:
    loader = loader_class(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        _dispose(loader)


def _dispose(loader: Any) -> None:
    dispose = getattr(loader, "dispose", None)
    if dispose is not None:
        dispose()


def _failed(file: str, line: int, column: int, message: str) -> Parsed:
    return Parsed(
        None, (Problem(location=Location(file=file, line=line, column=column), message=message),)
    )


def _syntax_problem(exc: MarkedYAMLError, file: str, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = exc.problem or exc.context or "syntax error"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    hint = "check the indentation and quoting here"
    if _character_at(text, line, column) == "\t":
        hint = "YAML does not allow tabs for indentation: indent with spaces"
    message = f"YAML syntax error: {what}{context}; {hint}"
    return Problem(location=Location(file=file, line=line, column=column), message=message)


def _character_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line)
    if line > len(lines) or column > len(lines[line - 1]):
        return ""
    return lines[line - 1][column - 1]


def _reader_problem(exc: ReaderError, text: str, file: str) -> Parsed:
    """A character YAML does not allow (a control character): point at it."""
    position = exc.position if isinstance(exc.position, int) else 0
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    character = exc.character
    what = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    return _failed(
        file, line, column, f"contains the character {what}, which YAML does not allow; remove it"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Builder:
    """Turns composed nodes into plain data, recording where every key and value is.

    Positions are the parser's own marks, kept as they are (see ``Positions``): a file
    of a dozen values needs a ``Location`` only where a problem is found.
    """

    def __init__(self, file: str, max_nodes: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.keys: dict[Path_, Mark] = {}
        self.values: dict[Path_, Mark] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.open: set[int] = set()  # the collections being built: a recursive alias

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise _Invalid(self._problem(node, f"nests deeper than {MAX_DEPTH} levels"))
        if self.nodes > self.max_nodes:  # only aliases can do it: the events were counted
            raise _Invalid(
                self._problem(
                    node,
                    f"expands through aliases to more than {self.max_nodes} values; "
                    "write the values out instead",
                )
            )
        self.values[path] = node.start_mark
        tag = _tag_of(node)
        if tag not in _PLAIN_TAGS:
            self._unsupported_tag(node)
        if isinstance(node, ScalarNode):
            return _scalar(tag, node.value)
        if not isinstance(node, MappingNode | SequenceNode):
            raise _Invalid(self._problem(node, "holds a YAML node of an unknown kind"))
        if id(node) in self.open:
            raise _Invalid(
                self._problem(node, "contains an alias of itself; write the values out instead")
            )
        self.open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path, depth)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _unsupported_tag(self, node: Node) -> None:
        tag = str(node.tag)
        shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
        self.problems.append(
            self._problem(
                node,
                f"unsupported YAML tag {shown!r}; site files hold only text, numbers, "
                "booleans, lists and mappings: remove the tag",
            )
        )

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key in result:
                first = self.keys[(*path, key)]
                self.problems.append(
                    self._problem(
                        key_node,
                        f"duplicate key {key!r} (first at line {first.line + 1}); keep one of them",
                    )
                )
                continue
            self.keys[(*path, key)] = key_node.start_mark
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _Invalid(
                self._problem(node, "a key must be a plain value, not a list or mapping")
            )
        if _tag_of(node) not in _PLAIN_TAGS:
            self._unsupported_tag(node)
        return str(node.value)

    def _location(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(file=self.file, line=mark.line + 1, column=mark.column + 1)

    def _problem(self, node: Node, message: str) -> Problem:
        return Problem(location=self._location(node), message=message)


def _tag_of(node: Node) -> str | None:
    """``node.tag``, without the work that property does for every node: the parser's
    tags are whole already (no handle), and only a ``%`` escape needs decoding."""
    ctag = node.ctag
    suffix = None if ctag is None else ctag.suffix
    if ctag is not None and ctag.handle is None and isinstance(suffix, str) and "%" not in suffix:
        return suffix
    return node.tag


def _scalar(tag: Any, value: str) -> Any:
    """The value of a scalar as YAML 1.2 core schema types; unknown tags stay text."""
    if tag == _STR_TAG:  # most scalars: e-mails, ids, roles
        return value
    if not isinstance(tag, str) or not tag.startswith(_TAG):
        return value
    kind = tag[len(_TAG) :]
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() in _BOOL_TRUE
    if kind in ("int", "float"):
        return _number(value, kind)
    return value


def _number(text: str, kind: str) -> int | float | str:
    cleaned = text.replace("_", "")
    try:
        return int(cleaned, 0) if kind == "int" else float(cleaned)
    except ValueError:
        return text


def iter_yaml_files(folder: Path) -> Iterator[Path]:
    """The ``.yaml`` and ``.yml`` files directly in ``folder``, sorted by name.

    Hidden files (an editor's ``.#x.yaml``, ``.x.yaml``) are not site files.
    """
    try:
        entries = _entries(folder)
    except OSError:
        return
    for entry in _yaml_entries(entries):
        yield Path(entry.path)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` sorted by name (``DirEntry`` spares a stat per file)."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except (NotADirectoryError, FileNotFoundError):
        return []


def _yaml_entries(entries: list[os.DirEntry[str]]) -> Iterator[os.DirEntry[str]]:
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.name.endswith((".yaml", ".yml")) and _file_or_link(entry):
            yield entry


def _file_or_link(entry: os.DirEntry[str]) -> bool:
    """A file, or a link: reading a link says why it is refused (outside, a loop)."""
    return entry.is_symlink() or entry.is_file()


@dataclass(frozen=True)
class DesiredState:
    """Everything the repository declares, checked and resolved."""

    root: Path
    config: Config
    people: People
    sites: Mapping[str, DesiredSite]
    warnings: tuple[Problem, ...] = ()
    site_files: Mapping[str, str] = field(default_factory=dict)


def inspect_repository(
    root: Path,
    config: Config | None = None,
    today: date | None = None,
    on_site: Callable[[DesiredSite], None] | None = None,
) -> Inspection:
    """Read reconciler.yaml (unless ``config`` is it, already read), people.yaml and every
    site file; collect every problem. ``today`` (UTC) bounds people.yaml's ``left:``
    days; the computer's clock unless given. ``on_site`` is given each valid site as soon
    as its file is read (the repository as a whole may still turn out invalid)."""
    today = datetime.now(UTC).date() if today is None else today
    outcome = Inspection()
    if config is None:
        read = read_configuration(root)
        outcome.config, outcome.platform = read.config, read.platform
        outcome.problems.extend(read.problems)
    else:
        outcome.config, outcome.platform = config, config.platform
    if _file_or_link_at(root / PEOPLE_FILE):
        problems = outcome.problems
        expert = None if outcome.config is None else outcome.config.expert
        people = _read_document(
            root, PEOPLE_FILE, lambda doc: read_people(doc, problems, expert, today), problems
        )
        outcome.people = people or People()
    _read_sites(root, outcome, on_site)
    return outcome


def read_configuration(root: Path) -> ConfigRead:
    """reconciler.yaml alone: the configuration (None when invalid) and its problems.

    Its ``platform`` block is checked by the platform kind's factory, not here (see
    ``operations/configuration.py``, the one place every command reads it through).
    """
    config_path = root / CONFIG_FILE
    if not root.is_dir():  # a mistyped --root: "no reconciler.yaml there" would mislead
        raise ConfigError(
            f"there is no folder {root}; --root, -C and RECONCILER_ROOT name the "
            f"repository holding {CONFIG_FILE}"
        )
    if not _file_or_link_at(config_path):
        raise ConfigError(
            f"no {CONFIG_FILE} in {root}; run reconciler in the repository or a folder of "
            f"it ({CONFIG_FILE} is looked for up to the git work tree's top), pass --root "
            "DIR, or create one with `reconciler init`"
        )
    parsed = read_yaml_file(config_path, CONFIG_FILE, root=root)
    if parsed.document is None:
        return ConfigRead(None, None, list(parsed.problems))
    read = read_config(parsed.document)
    return ConfigRead(read.config, read.platform, [*parsed.problems, *read.problems])


def load_repository(
    root: Path, config: Config | None = None, on_site: Callable[[DesiredSite], None] | None = None
) -> DesiredState:
    """The desired state of the repository at ``root``; ``ValidationFailed`` if invalid.

    ``config``: reconciler.yaml, when the caller has read (and checked) it already;
    ``on_site``: see ``inspect_repository``.
    """
    outcome = inspect_repository(root, config, on_site=on_site)
    if errors_in(outcome.problems) or outcome.config is None:
        raise ValidationFailed(outcome.problems)
    sites = {site.id: site for site in outcome.sites}
    files = {site.id: site.source.file for site in outcome.sites if site.source is not None}
    return DesiredState(
        root=root,
        config=outcome.config,
        people=outcome.people,
        sites=sites,
        warnings=tuple(outcome.problems),
        site_files=files,
    )


ResultT = TypeVar("ResultT")


def _file_or_link_at(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def _read_document(
    root: Path,
    name: str,
    reader: Callable[[Document], ResultT | list[Problem]],
    problems: list[Problem],
) -> ResultT | None:
    parsed = read_yaml_file(root / name, name, root=root)
    problems.extend(parsed.problems)
    if parsed.document is None:
        return None
    result = reader(parsed.document)
    if isinstance(result, list):
        problems.extend(result)
        return None
    return result


def _read_sites(
    root: Path, outcome: Inspection, on_site: Callable[[DesiredSite], None] | None
) -> None:
    folder = sites_folder(root)
    try:
        entries = _entries(folder)
    except OSError as exc:
        outcome.problems.append(
            Problem(location=Location(file=SITES_DIR), message=f"cannot be read: {exc.strerror}")
        )
        return
    outcome.problems.extend(_stray_files(entries))
    resolver = SiteResolver(outcome.config, outcome.people)
    ids = UniqueIds()
    max_bytes = FILE_LIMIT.max_bytes()  # once, not once a file: it reads the environment
    with bulk():  # thousands of long-lived sites: see reconciler.heap
        for entry in _yaml_entries(entries):
            display = f"{SITES_DIR}/{entry.name}"
            parsed = read_yaml_file(entry.path, display, root=root, max_bytes=max_bytes)
            outcome.problems.extend(parsed.problems)
            if parsed.document is None:
                ids.add(display, None)
                continue
            ids.add_document(parsed.document)
            site = resolver.resolve(parsed.document, outcome.problems)
            if isinstance(site, list):
                outcome.problems.extend(site)
            else:
                outcome.sites.append(site)
                if on_site is not None:
                    on_site(site)
    outcome.problems.extend(ids.problems)


def sites_folder(root: Path) -> Path:
    """``root/sites``, refused when it is not a folder or leads out of the repository
    (its files would then be read from there, each one looking like a plain file)."""
    folder = root / SITES_DIR
    if not folder.is_symlink() and not folder.exists():
        return folder  # no site files yet
    not_a_link(folder, SITES_DIR, root, folder=True)  # outside, a loop, or any link
    if not folder.is_dir():
        raise ConfigError(
            f"{SITES_DIR} is not a directory; site files are {SITES_DIR}/<site-id>.yaml"
        )
    return folder


def _stray_files(entries: list[os.DirEntry[str]]) -> Iterator[Problem]:
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if not entry.name.endswith((".yaml", ".yml")):
            message = "ignored: site files are sites/<site-id>.yaml"
        elif not _file_or_link(entry):
            message = "ignored: not a file; site files are sites/<site-id>.yaml"
        else:
            continue
        yield Problem(
            location=Location(file=f"{SITES_DIR}/{entry.name}"),
            message=message,
            severity=Severity.WARNING,
        )
