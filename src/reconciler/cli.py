"""The command line: options in, one library call, rendering out, exit codes.

Every command runs through one error boundary (``ReconcilerGroup.invoke``): our own
errors print their message and exit 1; anything else is a bug and exits 70.
Modules are imported inside the commands so that ``validate`` stays fast.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.render import escape

if TYPE_CHECKING:
    from reconciler.desired.problems import Problem
    from reconciler.reconcile.apply import ApplyReport, ChangeResult
    from reconciler.reconcile.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL_ERROR = 70
DEBUG_ENV = "RECONCILER_DEBUG"


class ReconcilerGroup(click.Group):
    """A group whose commands share one error boundary.

    Usage errors exit 1 (click's default is 2): `plan --detailed-exitcode` reserves 2
    for "changes to apply", and a mistyped option must not read as drift.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = hoist_global_options(sys.argv[1:] if args is None else list(args))
        self.json_output = wants_json(arguments)
        try:
            code = super().main(arguments, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.ClickException as exc:
            exc.show()
            self.echo_json_error(exc.format_message())
            code = 1
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            self.echo_json_error("aborted")
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, tuple[str, str]] = {}
        self.json_output = False

    def echo_json_error(self, message: str, problems: Sequence[Problem] = ()) -> None:
        """Under ``--format json``, the error as the one JSON document on stdout."""
        if not self.json_output:
            return
        from reconciler.render.problems import error_as_json

        context = click.get_current_context(silent=True)
        settings = context.find_root().obj if context is not None else None
        extra = settings.get("json_extra", {}) if isinstance(settings, dict) else {}
        click.echo(error_as_json(message, problems, extra))

    def add_lazy_command(self, name: str, target: str, summary: str) -> None:
        """Register ``module:attribute`` as command ``name``, imported only when used.

        ``summary`` is its line in this group's --help, which thus imports nothing.
        """
        self.lazy_commands[name] = (target, summary)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attribute = self.lazy_commands[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with a lazy command's summary instead of importing it."""
        rows: list[tuple[str, str | click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                rows.append((name, self.lazy_commands[name][1]))
            elif not command.hidden:
                rows.append((name, command))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    (name, text if isinstance(text, str) else text.get_short_help_str(limit))
                    for name, text in rows
                ]
            )

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            problems = tuple(getattr(exc, "problems", ()))  # ValidationFailed: every one
            for problem in problems:
                click.echo(escape.text(str(problem)), err=True)
            click.echo(_red(f"error: {escape.lines(exc.message)}"), err=True)
            self.echo_json_error(exc.message, problems)
            raise click.exceptions.Exit(exc.exit_code) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            self.echo_json_error("interrupted")
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one boundary: any other error is a bug
            self.echo_json_error(_report_bug(exc))
            raise click.exceptions.Exit(EXIT_INTERNAL_ERROR) from None


def _report_bug(exc: Exception) -> str:
    """Say that reconciler has a bug, on stderr; the message, for a JSON document."""
    if os.environ.get(DEBUG_ENV):
        import traceback  # only for a bug: not on every start

        traceback.print_exception(exc, file=sys.stderr)
    message = (
        f"internal error: {type(exc).__name__}: {escape.lines(str(exc))}\n"
        f"This is a bug in reconciler; run again with {DEBUG_ENV}=1 for the traceback "
        "and report it."
    )
    click.echo(_red(message), err=True)
    return message


def _red(text: str) -> str:
    """``text`` in red where stderr takes colour (a terminal, no NO_COLOR, no --no-color)."""
    return click.style(text, fg="red") if colour(err=True) else text


GLOBAL_VALUE_OPTIONS = ("--root", "-C")
GLOBAL_FLAGS = ("--no-color",)


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options moved before the command, so that
    `reconciler validate --root DIR` means `reconciler --root DIR validate` (as
    `--root`, `-C` and `--no-color` are for every command). ``--`` ends the search."""
    front: list[str] = []
    rest: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            rest.extend(args[position:])
            break
        if arg in GLOBAL_VALUE_OPTIONS and position + 1 < len(args):
            front.extend(args[position : position + 2])
            position += 2
            continue
        target = front if arg in GLOBAL_FLAGS or arg.startswith("--root=") else rest
        target.append(arg)
        position += 1
    return front + rest


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for ``--format json`` (read before click parses it,
    so that a usage error too is answered with a JSON document)."""
    for position, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--format=json" or (
            arg == "--format" and args[position + 1 : position + 2] == ["json"]
        ):
            return True
    return False


def colour(*, err: bool = False) -> bool:
    """Whether stdout (or stderr) takes colour: a terminal, no ``NO_COLOR`` (set and not
    empty, as no-color.org says) and no ``--no-color``."""
    context = click.get_current_context(silent=True)
    settings = context.find_root().obj if context is not None else None
    if isinstance(settings, dict) and settings.get("no_color"):
        return False
    stream = sys.stderr if err else sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR")


class _LogFormatter(logging.Formatter):
    """Log records quote the platform's words: no line of them is a workflow command."""

    def format(self, record: logging.LogRecord) -> str:
        return escape.lines(super().format(record))


def format_option(*choices: str, help: str = "Output format.") -> Callable[[F], F]:
    """``--format``, the same for every command; text first and the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def scope_options(verb: str) -> Callable[[F], F]:
    """``--since-last-apply`` and ``--site``, the same for plan and apply."""

    def decorate(command: F) -> F:
        command = click.option(
            "--site",
            "sites",
            multiple=True,
            metavar="ID",
            help=f"{verb.capitalize()} only this site, whatever changed (repeatable).",
        )(command)
        return click.option(
            "--since-last-apply",
            is_flag=True,
            help=f"{verb.capitalize()} the sites changed since the newest commit whose "
            "apply finished with nothing failed or held back (its git note says so): "
            "what merges changed and earlier applies left behind.",
        )(command)

    return decorate


def _root(ctx: click.Context) -> Path:
    root: Path = ctx.obj["root"]
    return root


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="RECONCILER_ROOT",
    help="The repository holding reconciler.yaml and sites/  [default: found from the "
    "current folder up to the git work tree's top, as git does]",
)
@click.option(
    "-C",
    "start",
    metavar="DIR",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Look for the repository from DIR instead of the current folder (as git -C; "
    "paths named on the command line stay relative to the current folder).",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour on stdout or stderr (as the NO_COLOR variable does).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(
    ctx: click.Context, root: Path | None, start: Path | None, no_color: bool, verbose: int
) -> None:
    """Keep client-website ownership, billing contacts and access in git.

    Site files under sites/ declare who owns each site, who is invoiced and who else has
    access; reconciler checks them, plans the changes against the platform and applies
    them in a safe order.

    \b
    Typical flow:
      reconciler validate          check the files
      reconciler plan              show what would change
      reconciler apply             apply it (asks first; --yes in CI)

    Run it anywhere in the repository: it finds reconciler.yaml from the current folder
    up to the git work tree's top. --root, -C and --no-color may also follow the
    command (`reconciler plan --root ../sites-repo`). With --format json every command
    that reports a result (all but `sandbox serve`) prints one JSON document on stdout,
    also on an error ({"format_version": 1, "error": {"message", "problems"}}, exit 1).
    """
    from reconciler.operations.root import find_root

    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.ensure_object(dict)
    ctx.obj["no_color"] = no_color
    begin = Path.cwd() if start is None else start
    ctx.obj["start"] = begin.resolve()
    ctx.obj["explicit_root"] = root is not None
    ctx.obj["root"] = (begin / root).resolve() if root is not None else find_root(begin)


@cli.command()
@format_option(
    "text",
    "json",
    "github",
    help="github prints workflow annotations that show on the pull request's lines.",
)
@click.pass_context
def validate(ctx: click.Context, output_format: str) -> None:
    """Check the site files alone (no platform needed); exit 1 on any error.

    Every problem of every file is reported at once, as file:line:column. A file that
    is a link out of the repository, or larger than 1 MiB (RECONCILER_MAX_FILE_BYTES
    raises it), is refused unread.

    \b
    Examples:
      reconciler validate
      reconciler validate --format github    # in a GitHub Actions step
    """
    from reconciler.operations.validate import ValidateOperation
    from reconciler.render import problems as render

    result = ValidateOperation(_root(ctx)).run()
    renderer = {"text": render.as_text, "json": render.as_json, "github": render.as_github}
    click.echo(renderer[output_format](result.problems, result.site_count))
    if not result.ok:
        ctx.exit(1)


@cli.command()
@click.option(
    "--file",
    "kind",
    type=click.Choice(["site", "reconciler", "people"]),
    default="site",
    show_default=True,
    help="Whose schema: a site file, reconciler.yaml or people.yaml.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema of a site file, reconciler.yaml or people.yaml (for editors
    and CI). It refuses what validate refuses within one file; rules across files
    (an unknown handle, the file's name) are validate's alone.

    \b
    Examples:
      reconciler schema > schema/site.schema.json
      reconciler schema --file reconciler > schema/reconciler.schema.json
      reconciler schema --file people > schema/people.schema.json
    and in a file's first line, for an editor:
      # yaml-language-server: $schema=../schema/site.schema.json     (sites/*.yaml)
      # yaml-language-server: $schema=schema/reconciler.schema.json  (reconciler.yaml)
    """
    from reconciler.operations.schema import SchemaOperation

    click.echo(SchemaOperation(kind).run(), nl=False)


@cli.command()
@format_option("text", "json", "markdown", help="markdown is for a pull-request comment.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan (JSON) for `reconciler apply FILE`.",
)
@click.option(
    "--changed-since",
    metavar="REF",
    help="Plan only the sites whose files changed since this git ref (branch, tag, SHA), "
    "what `apply --changed-since` would apply; the other pending changes are listed "
    "after the plan as not applied.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to apply, 2 when there are changes or drift "
    "(a `drift` note), 1 on error.",
)
@click.option("--force", is_flag=True, help="Plan even beyond the policy limits.")
@scope_options("plan")
@click.pass_context
def plan(
    ctx: click.Context,
    output_format: str,
    out: Path | None,
    changed_since: str | None,
    detailed_exitcode: bool,
    force: bool,
    since_last_apply: bool,
    sites: tuple[str, ...],
) -> None:
    """Show what apply would change on the platform. Never writes to the platform.

    \b
    Examples:
      reconciler plan
      reconciler plan --out plan.json && reconciler apply plan.json
      reconciler plan --changed-since origin/main --format markdown
      reconciler plan --since-last-apply    # what the next merge's apply covers
      reconciler plan --site acme-bakery --site bistro-verde
      reconciler plan --detailed-exitcode   # drift check: exit 2 when they differ
    """
    from reconciler.operations.sandbox_child import early_sandbox
    from reconciler.operations.workspace import early_platform

    # Both start while the modules below load: the embedded sandbox's server, or the
    # configured platform's client in a child process (on large repositories).
    with early_sandbox(_root(ctx)) as sandbox, early_platform(_root(ctx), os.environ) as forked:
        from reconciler.operations.plan import PlanOperation

        operation = PlanOperation(
            _root(ctx),
            os.environ,
            changed_since,
            force=force,
            out=out,
            sandbox=sandbox,
            forked=forked,
            since_last_apply=since_last_apply,
            sites=sites,
        )
        shown: list[Plan] = []  # under --format json, printed once nothing can fail
        try:
            the_plan = operation.run(
                show=lambda made: (
                    shown.append(made)
                    if output_format == "json"
                    else click.echo(_plan_as(output_format, made))
                )
            )
        except ReconcilerError:
            if shown:  # refused after it was made (a policy limit): the error carries it
                ctx.obj["json_extra"] = {"plan": json.loads(_plan_as("json", shown[0]))}
            raise
    if shown:
        click.echo(_plan_as("json", shown[0]))
    if out is not None:
        click.echo(f"Saved the plan to {out}; apply it with `reconciler apply {out}`.", err=True)
    if detailed_exitcode and (the_plan.has_changes or the_plan.has_drift):
        ctx.exit(2)


def _plan_as(output_format: str, plan: Plan) -> str:
    from reconciler.render import plan as render

    if output_format == "json":
        return render.as_json(plan)
    if output_format == "markdown":
        return render.as_markdown(plan)
    return render.as_text(plan, colour=colour())


@cli.command()
@click.argument(
    "plan_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option("-y", "--yes", is_flag=True, help="Apply without asking (for CI).")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Sites applied at once.",
)
@click.option("--force", is_flag=True, help="Apply even beyond the policy limits.")
@click.option(
    "--changed-since",
    metavar="REF",
    help="Apply only the sites whose files changed since this git ref (every site when "
    "people.yaml or reconciler.yaml changed); after a merge: the commit before it.",
)
@click.option(
    "--require-approval",
    is_flag=True,
    help="Hold back the changes in policy.require_approval (default: handovers) unless "
    "their pull request was approved (GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY, "
    "GITHUB_API_URL). On for every apply when reconciler.yaml sets policy.require_approval.",
)
@click.option(
    "--skip-approval",
    is_flag=True,
    help="Apply without the approval gate; the git note records who (git user.name/email).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Apply even with uncommitted changes to sites/, reconciler.yaml or people.yaml.",
)
@scope_options("apply")
@format_option("text", "json", help="How to print the final report.")
@click.pass_context
def apply(
    ctx: click.Context,
    plan_file: Path | None,
    yes: bool,
    parallelism: int,
    force: bool,
    changed_since: str | None,
    require_approval: bool,
    skip_approval: bool,
    allow_dirty: bool,
    since_last_apply: bool,
    sites: tuple[str, ...],
    output_format: str,
) -> None:
    """Apply the changes: a saved plan as it is, or a fresh plan after confirmation.

    Changes of a site apply in order (grant access, billing contact, cancel a wrong
    pending transfer, start the transfer, purchase, revoke access); sites apply in
    parallel. A site stops at its first
    failure; the others go on. A saved plan is applied only if the files and the
    platform still produce exactly its changes. Exit 1 if any change failed.

    In a git repository, apply refuses uncommitted changes to the desired state
    (ignored and --skip-worktree files included) and records what it did as a git note
    on HEAD (refs/notes/reconciler), in a block whose first line says its scope, whether
    it finished and how many changes failed or were held back; --since-last-apply
    starts from the newest such block of scope all or since-last-apply with nothing
    failed or held. A committed .reconciler/apply-journal.txt is refused. A plan file
    over 64 MiB is refused unread (RECONCILER_MAX_PLAN_BYTES raises it).

    \b
    Examples:
      reconciler apply                 # plan, show, ask, apply
      reconciler apply --yes           # in CI
      reconciler apply plan.json       # exactly the reviewed plan
      reconciler apply --yes --require-approval --since-last-apply   # after a merge
      reconciler apply --site acme-bakery   # one site: its plan, then the prompt
    """
    from reconciler.operations.sandbox_child import early_sandbox

    with early_sandbox(_root(ctx)) as sandbox:  # it starts while the modules below load
        from reconciler.operations.apply import ApplyOperation

        operation = ApplyOperation(
            _root(ctx),
            os.environ,
            plan_file,
            yes=yes,
            parallelism=parallelism,
            force=force,
            require_approval=require_approval,
            skip_approval=skip_approval,
            allow_dirty=allow_dirty,
            changed_since=changed_since,
            sandbox=sandbox,
            since_last_apply=since_last_apply,
            sites=sites,
        )
        terminal = _ApplyTerminal(output_format)
        result = operation.run(terminal)
    click.echo(terminal.outcome(result.plan, result.report, saved=result.saved), nl=False)
    if not result.ok:
        ctx.exit(1)


class _ApplyTerminal:
    """Apply's side of the terminal: the plan shown, the prompt, progress, the report.

    Where stdout is the JSON report, the plan goes to stderr. Off a terminal (CI logs)
    progress is a plain line per change as it completes, and the report only sums up.
    """

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        self.streamed = not sys.stderr.isatty()

    def warn(self, message: str) -> None:
        click.echo(f"warning: {escape.lines(message)}", err=True)

    def show_plan(self, plan: Plan) -> None:
        from reconciler.render.plan import as_text

        to_stderr = self.output_format == "json"
        click.echo(as_text(plan, colour=colour(err=to_stderr)), err=to_stderr)

    def confirm(self, plan: Plan) -> None:
        if not sys.stdin.isatty():
            raise ReconcilerError(
                "not applying without confirmation: standard input is not a terminal; "
                "pass --yes to apply non-interactively"
            )
        if not click.confirm(f"Apply these {len(plan.changes)} changes?", default=False):
            raise ReconcilerError("not applied: cancelled at the prompt")

    @contextmanager
    def progress(self, plan: Plan) -> Iterator[Callable[[ChangeResult], None]]:
        from reconciler.render.report import result_line

        if self.streamed:
            to_stdout = self.output_format == "text"
            yield lambda result: click.echo(result_line(result), err=not to_stdout)
            return
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True, no_color=not colour(err=True))
        with Progress(transient=True, console=console) as progress:
            task = progress.add_task("applying", total=len(plan.changes))
            yield lambda _result: progress.advance(task)

    def outcome(self, plan: Plan, report: ApplyReport | None, *, saved: bool) -> str:
        """The last output: the report, or a saved plan's summary when it had nothing."""
        from reconciler.reconcile.apply import ApplyReport
        from reconciler.render import report as render
        from reconciler.render.plan import summary_line

        if self.output_format == "json":  # one document, also when nothing was applied
            return render.as_json(report or ApplyReport(()), plan) + "\n"
        if report is None:
            return summary_line(plan) + "\n" if saved else ""
        if self.streamed:
            return render.summary(report) + "\n"
        return render.as_text(report, colour=colour()) + "\n"


@cli.command("import")
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@click.option("--all", "import_all", is_flag=True, help="Every site the expert can see.")
@format_option("text", "json")
@click.pass_context
def import_(
    ctx: click.Context, site_ids: tuple[str, ...], import_all: bool, output_format: str
) -> None:
    """Write sites/<id>.yaml from the platform's current state.

    Uses `owner: expert` and people.yaml handles where they apply. An existing file is
    updated in place: comments, key order and untouched values stay. A pending transfer
    is written as the handover under way (its recipient as owner, with a comment), so
    that plan waits for it. Afterwards `reconciler plan` shows no change for these
    sites, except removals of people who left.

    \b
    Examples:
      reconciler import legacy-landing
      reconciler import --all
      reconciler import --all --format json    # {"written", "unchanged", "notes"}
    """
    from reconciler.operations.adopt import describe_import
    from reconciler.operations.import_ import ImportOperation

    if bool(site_ids) == import_all:
        raise click.UsageError("name the sites to import, or pass --all (not both)")
    operation = ImportOperation(_root(ctx), os.environ, None if import_all else site_ids)
    report = operation.run()
    if output_format == "json":
        notes = [{"site": n.site, "kind": n.kind.value, "message": n.message} for n in report.notes]
        _echo_json({"written": report.written, "unchanged": report.unchanged, "notes": notes})
        return
    for line in describe_import(report):
        click.echo(line)
    click.echo(f"Imported: {len(report.written)} written, {len(report.unchanged)} unchanged.")


@cli.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@click.option(
    "--diff",
    is_flag=True,
    help="Change nothing; print what would change as a unified diff (exit 1 with --check).",
)
@format_option("text", "json")
@click.pass_context
def fmt(ctx: click.Context, check: bool, diff: bool, output_format: str) -> None:
    """Rewrite site files in one canonical layout, keeping every comment.

    Keys in the order id, name, owner, billing_contact, collaborators, package;
    e-mail addresses in lower case; collaborators sorted.

    \b
    Examples:
      reconciler fmt
      reconciler fmt --check     # in CI or pre-commit
      reconciler fmt --diff      # what fmt would change, as a diff
    """
    from reconciler.operations.fmt import FormatOperation

    result = FormatOperation(_root(ctx), check=check, write=not (check or diff)).run()
    if output_format == "json":
        _echo_json(
            {
                "changed": result.changed,
                "written": result.written,
                "skipped": result.unreadable,
                "diff": result.diff if diff else None,
            }
        )
        if not result.ok:
            ctx.exit(1)
        return
    if diff:
        click.echo(result.diff, nl=False)
    for path in result.changed:
        click.echo(f"{'reformatted' if result.written else 'would reformat'} {path}", err=diff)
    for problem in result.unreadable:
        click.echo(f"skipped {problem}", err=True)
    if check and result.changed:
        click.echo(f"{len(result.changed)} file(s) would change; run `reconciler fmt`", err=True)
    if not result.ok:
        ctx.exit(1)


@cli.command()
@click.argument("site")
@format_option("text", "json")
@click.pass_context
def history(ctx: click.Context, site: str, output_format: str) -> None:
    """Show a site's owner, billing contact and collaborators over time, from git.

    One entry per commit that changed them: date, author, subject, what changed; then
    the runs that applied changes to the site (git notes, refs/notes/reconciler), and
    how each of its transfers ended on the platform (accepted, declined, cancelled,
    expired, with dates).

    \b
    Example:
      reconciler history acme-bakery
    """
    from reconciler.operations.history import HistoryOperation
    from reconciler.render import history as render

    found = HistoryOperation(_root(ctx), site, os.environ).run()
    click.echo(render.as_json(found) if output_format == "json" else render.as_text(found))


@cli.command()
@format_option(
    "text",
    "json",
    "csv",
    "html",
    help="html is one self-contained page (cards, chart, sortable and filterable table).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the chosen format to this file instead of standard output.",
)
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@click.pass_context
def status(
    ctx: click.Context, output_format: str, out: Path | None, site_ids: tuple[str, ...]
) -> None:
    """Show the portfolio: who owns each site, who pays, what waits on whom.

    One row per site, from the files and the platform together, managed and unmanaged:
    the owner and the owner the file wants, the billing contact and whether the expert
    or the client pays, the package, what it costs and when it renews, collaborators, a pending
    handover with its days left, how the last one ended, the plan's notes and whether
    file and platform agree. Totals come first. Reads the platform as plan does (the
    same list requests); never writes. Naming SITEs shows those alone, totals
    included.

    \b
    Examples:
      reconciler status
      reconciler status acme-bakery bistro-verde
      reconciler status --format json | jq '.totals'
      reconciler status --format csv --out portfolio.csv
      reconciler status --format html --out status.html   # open it in a browser
    """
    from reconciler.operations.workspace import early_platform

    # On large repositories the platform's client starts in a child while these load.
    with early_platform(_root(ctx), os.environ) as forked:
        from reconciler.operations.status import StatusOperation
        from reconciler.render import status as render

        report = StatusOperation(
            _root(ctx), os.environ, forked=forked, sites=site_ids or None
        ).run()
    if output_format == "html":
        from reconciler.render.status_html import as_html

        text = as_html(report)
    elif output_format in ("json", "csv"):
        text = render.as_json(report) if output_format == "json" else render.as_csv(report)
    else:
        import shutil  # here: it imports the compression modules, which start-up does not need

        width = shutil.get_terminal_size((120, 24)).columns if out is None else 120
        text = render.as_text(report, width=width, colour=out is None and colour()) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    from reconciler.operations.output import write_output

    write_output(out, text)
    click.echo(f"Wrote the status ({output_format}, {len(report.sites)} sites) to {out}.", err=True)


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@format_option("text", "json", "markdown", help="As `reconciler plan` prints it.")
def show(plan_file: Path, output_format: str) -> None:
    """Show a plan saved by `reconciler plan --out FILE`, as plan printed it.

    Reads the file alone: no platform, no repository needed. What `reconciler apply
    FILE` would apply (if the files and the platform still produce exactly it).

    \b
    Examples:
      reconciler show plan.json
      reconciler show plan.json --format markdown
    """
    from reconciler.operations.planfile import load_plan

    click.echo(_plan_as(output_format, load_plan(plan_file)))


def _echo_json(document: dict[str, Any]) -> None:
    """A command's result as its one JSON document on stdout."""
    from reconciler.render.escape import json_text

    click.echo(json_text(json.dumps({"format_version": 1, **document}, indent=2)))


@cli.command()
@click.option(
    "--expert",
    metavar="EMAIL",
    help="The expert account that manages the sites  [default: a placeholder to edit]",
)
@format_option("text", "json")
@click.pass_context
def init(ctx: click.Context, expert: str | None, output_format: str) -> None:
    """Start a site repository: reconciler.yaml, people.yaml, schema/, sites/, a
    .gitignore for .reconciler/, and the three GitHub workflows that call reconciler's
    reusable workflows (plan on pull requests, apply on merge, a daily drift check).

    Writes in the git work tree's top (or --root DIR, or the current folder outside
    git). Overwrites nothing: when one of these files exists, nothing is written (an
    existing .gitignore gets the .reconciler/ line). Then `reconciler validate` passes.

    \b
    Examples:
      git init sites-repo && cd sites-repo && reconciler init --expert studio@pixel.example
      reconciler init --format json
    """
    from reconciler.operations.init import InitOperation
    from reconciler.operations.root import work_tree_top

    settings = ctx.obj
    start: Path = settings["start"]
    root = settings["root"] if settings["explicit_root"] else (work_tree_top(start) or start)
    done = InitOperation(root, expert).run()
    if output_format == "json":
        _echo_json(
            {
                "root": str(done.root),
                "written": done.written,
                "appended": done.appended,
                "expert": done.expert,
            }
        )
        return
    for name in done.written:
        click.echo(f"wrote {name}")
    for name in done.appended:
        click.echo(f"added .reconciler/ to {name}")
    if done.placeholder:
        click.echo(f"Set `expert:` in reconciler.yaml to your expert account (now {done.expert}).")
    click.echo(
        "Next: add sites/<id>.yaml files by hand, or name your platform in "
        "reconciler.yaml's `platform:` block and run `reconciler import --all` to write "
        "them from it; then `reconciler validate`, and set up GitHub as the README says."
    )


# Imported when used: `reconciler --help` and `validate` do not load the sandbox.
cli.add_lazy_command(
    "sandbox",
    "reconciler.sandbox.cli:sandbox",
    "A local platform: serve it, seed it, act as the client on it.",
)


@cli.command()
@click.option(
    "--record", is_flag=True, help="Record it as a git note on HEAD, then start a new journal."
)
@format_option("text", "json")
@click.pass_context
def journal(ctx: click.Context, record: bool, output_format: str) -> None:
    """Show what applies that did not finish (killed, timed out) did, from their journal.

    Each apply writes every change down as it completes (.reconciler/apply-journal.txt);
    the next apply's git note starts with whatever a killed run left there. --record
    notes it at once (the apply workflow does so even when its apply step failed).

    \b
    Examples:
      reconciler journal
      reconciler journal --record
    """
    from reconciler.operations.apply import JournalOperation

    text = JournalOperation(_root(ctx), record=record).run()
    if output_format == "json":
        _echo_json({"journal": text or None, "recorded": bool(text) and record})
        return
    if not text:
        click.echo("No journal left behind: every apply was recorded.")
        return
    click.echo(text)
    if record:
        click.echo("Recorded as a git note on HEAD (refs/notes/reconciler).")


def main() -> None:
    # A library's warning may quote a file (ruamel shows the lines of an anchor used
    # twice): through the log, each of its lines is shown as data (_LogFormatter).
    logging.captureWarnings(True)
    cli(prog_name="reconciler")


if __name__ == "__main__":  # pragma: no cover
    main()
