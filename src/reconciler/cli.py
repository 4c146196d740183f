"""The command line: options in, one library call, rendering out, exit codes.

Every command runs through one error boundary (``ReconcilerGroup.invoke``): our own
errors print their message and exit 1; anything else is a bug and exits 70.
Modules are imported inside the commands so that ``validate`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.reconcile.apply import ApplyReport, ChangeResult, Gate
    from reconciler.reconcile.plan import Plan
    from reconciler.review.gitrepo import GitRepository

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
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.ClickException as exc:
            exc.show()
            code = 1
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            for problem in getattr(exc, "problems", ()):  # ValidationFailed: every one
                click.echo(str(problem), err=True)
            click.secho(f"error: {exc.message}", err=True, fg="red")
            raise click.exceptions.Exit(exc.exit_code) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            _report_bug(exc)
            raise click.exceptions.Exit(EXIT_INTERNAL_ERROR) from None


def _report_bug(exc: Exception) -> None:
    if os.environ.get(DEBUG_ENV):
        traceback.print_exception(exc, file=sys.stderr)
    click.secho(
        f"internal error: {type(exc).__name__}: {exc}\n"
        f"This is a bug in reconciler; run again with {DEBUG_ENV}=1 for the traceback "
        "and report it.",
        err=True,
        fg="red",
    )


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


def _root(ctx: click.Context) -> Path:
    root: Path = ctx.obj["root"]
    return root


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    envvar="RECONCILER_ROOT",
    show_default=True,
    help="The repository holding reconciler.yaml and sites/.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, root: Path, verbose: int) -> None:
    """Keep client-website ownership, billing contacts and access in git.

    Site files under sites/ declare who owns each site, who is invoiced and who else has
    access; reconciler checks them, plans the changes against the platform and applies
    them in a safe order.

    \b
    Typical flow:
      reconciler validate          check the files
      reconciler plan              show what would change
      reconciler apply             apply it (asks first; --yes in CI)
    """
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["root"] = root.resolve()


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

    Every problem of every file is reported at once, as file:line:column.

    \b
    Examples:
      reconciler validate
      reconciler validate --format github    # in a GitHub Actions step
    """
    from reconciler.desired.loader import inspect_repository
    from reconciler.desired.problems import errors_in, sorted_problems
    from reconciler.render import problems as render

    outcome = inspect_repository(_root(ctx))
    problems = sorted_problems(outcome.problems)
    renderer = {"text": render.as_text, "json": render.as_json, "github": render.as_github}
    click.echo(renderer[output_format](problems, len(outcome.sites)))
    if errors_in(problems) or outcome.config is None:
        ctx.exit(1)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a site file (for editors and CI).

    \b
    Example, in a site file's first line:
      # yaml-language-server: $schema=../schema/site.schema.json
    """
    from reconciler.desired.sitefile import site_json_schema

    click.echo(site_json_schema(), nl=False)


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


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
    help="Plan only the sites whose files changed since this git ref (branch, tag, SHA).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to apply, 2 when there are changes, 1 on error.",
)
@click.option("--force", is_flag=True, help="Plan even beyond the policy limits.")
@click.pass_context
def plan(
    ctx: click.Context,
    output_format: str,
    out: Path | None,
    changed_since: str | None,
    detailed_exitcode: bool,
    force: bool,
) -> None:
    """Show what apply would change on the platform. Never writes to the platform.

    \b
    Examples:
      reconciler plan
      reconciler plan --out plan.json && reconciler apply plan.json
      reconciler plan --changed-since origin/main --format markdown
      reconciler plan --detailed-exitcode   # drift check: exit 2 when they differ
    """
    from reconciler.operations.reconcile import Reconciler
    from reconciler.reconcile.plan import save_plan
    from reconciler.render import plan as render

    root = _root(ctx)
    scope = _changed_scope(root, changed_since)
    with Reconciler.open(root, os.environ) as reconciler:
        the_plan = reconciler.plan(scope=scope)
    if output_format == "json":
        click.echo(render.as_json(the_plan))
    elif output_format == "markdown":
        click.echo(render.as_markdown(the_plan))
    else:
        click.echo(render.as_text(the_plan, colour=_colour()))
    reconciler.check_policy(the_plan, force=force)  # after showing what it refuses
    if out is not None:
        save_plan(the_plan, out)
        click.echo(f"Saved the plan to {out}; apply it with `reconciler apply {out}`.", err=True)
    if detailed_exitcode and the_plan.has_changes:
        ctx.exit(2)


def _changed_scope(root: Path, changed_since: str | None) -> set[str] | None:
    if changed_since is None:
        return None
    from reconciler.review.gitrepo import GitRepository

    with GitRepository.open(root) as repository:
        return repository.changed_site_ids(changed_since)


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
    "--require-approval",
    is_flag=True,
    help="Skip handovers whose pull request was not approved by someone other than its "
    "author (GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Apply even with uncommitted changes to sites/, reconciler.yaml or people.yaml.",
)
@format_option("text", "json", help="How to print the final report.")
@click.pass_context
def apply(
    ctx: click.Context,
    plan_file: Path | None,
    yes: bool,
    parallelism: int,
    force: bool,
    require_approval: bool,
    allow_dirty: bool,
    output_format: str,
) -> None:
    """Apply the changes: a saved plan as it is, or a fresh plan after confirmation.

    Changes of a site apply in order (grant access, billing contact, cancel a wrong
    pending transfer, start the transfer, purchase, revoke access); sites apply in
    parallel. A site stops at its first
    failure; the others go on. A saved plan is refused when the platform changed since
    it was made. Exit 1 if any change failed.

    In a git repository, apply refuses uncommitted changes to the desired state and
    records what it did as a git note on HEAD (refs/notes/reconciler).

    \b
    Examples:
      reconciler apply                 # plan, show, ask, apply
      reconciler apply --yes           # in CI
      reconciler apply plan.json       # exactly the reviewed plan
      reconciler apply --yes --require-approval   # after a merge, in CI
    """
    from reconciler.operations.reconcile import Reconciler
    from reconciler.reconcile.plan import load_plan
    from reconciler.render import plan as render_plan
    from reconciler.render import report as render_report

    root = _root(ctx)
    saved = load_plan(plan_file) if plan_file is not None else None
    with ExitStack() as stack:
        repository = _checked_repository(stack, root, allow_dirty, require_approval)
        gate = _approval_gate(stack, repository) if require_approval else None
        reconciler = stack.enter_context(Reconciler.open(root, os.environ))
        the_plan = saved or reconciler.plan()
        if saved is None:  # on stderr when stdout is the JSON report
            as_text = render_plan.as_text(the_plan, colour=_colour())
            click.echo(as_text, err=output_format == "json")
        reconciler.check_policy(the_plan, force=force)
        if not the_plan.has_changes:
            if saved is not None:
                click.echo(render_plan.summary_line(the_plan))
            return
        if not yes and saved is None:  # a saved plan was reviewed when it was made
            _confirm(len(the_plan.changes))
        streamed = not sys.stderr.isatty()
        with _progress(len(the_plan.changes), to_stdout=output_format == "text") as on_result:
            report = reconciler.apply(
                the_plan, parallelism=parallelism, force=force, gate=gate, on_result=on_result
            )
        _record_note(repository, the_plan, report)
    if output_format == "json":
        click.echo(render_report.as_json(report))
    elif streamed:
        click.echo(render_report.summary(report))
    else:
        click.echo(render_report.as_text(report, colour=_colour()))
    if not report.ok:
        ctx.exit(1)


def _checked_repository(
    stack: ExitStack, root: Path, allow_dirty: bool, require_approval: bool
) -> GitRepository | None:
    """The git repository, refused when the desired state has uncommitted changes.

    Outside git, apply still works (a first try, a test folder) but records nothing;
    approvals need git, so --require-approval refuses that.
    """
    from reconciler.review.gitrepo import GitRepository

    try:
        repository = stack.enter_context(GitRepository.open(root))
    except ReconcilerError:
        if require_approval:
            raise
        click.echo(
            f"warning: {root} is not in a git repository: applying without the uncommitted-"
            "changes check, and this apply is not recorded as a git note",
            err=True,
        )
        return None
    dirty = repository.uncommitted_desired_state()
    if dirty and not allow_dirty:
        raise ReconcilerError(
            f"uncommitted changes to the desired state ({', '.join(dirty)}): apply what is "
            "committed, so that git shows what was applied; commit them, or pass --allow-dirty"
        )
    return repository


def _approval_gate(stack: ExitStack, repository: GitRepository | None) -> Gate:
    from reconciler.review.approval import HandoverApprovals
    from reconciler.review.github import GitHubClient

    assert repository is not None  # _checked_repository refuses a missing one
    github = stack.enter_context(GitHubClient.from_environ(os.environ))
    return HandoverApprovals(github, repository).gate


def _record_note(repository: GitRepository | None, plan: Plan, report: ApplyReport) -> None:
    """A git note on HEAD: when, what was done, what failed. A failure only warns."""
    from reconciler.render.report import as_note

    if repository is None or (sha := repository.head_sha()) is None:
        return
    try:
        repository.add_note(sha, as_note(report, plan))
    except ReconcilerError as exc:
        click.echo(f"warning: the apply was not recorded: {exc.message}", err=True)


def _confirm(count: int) -> None:
    if not sys.stdin.isatty():
        raise ReconcilerError(
            "not applying without confirmation: standard input is not a terminal; "
            "pass --yes to apply non-interactively"
        )
    if not click.confirm(f"Apply these {count} changes?", default=False):
        raise ReconcilerError("not applied: cancelled at the prompt")


@contextmanager
def _progress(total: int, *, to_stdout: bool) -> Iterator[Callable[[ChangeResult], None]]:
    """A progress bar on a terminal; elsewhere (CI logs) a plain line per change as it
    completes, on stdout when that is the report, else on stderr."""
    from reconciler.render.report import result_line

    if not sys.stderr.isatty():
        yield lambda result: click.echo(result_line(result), err=not to_stdout)
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("applying", total=total)
        yield lambda _result: progress.advance(task)


@cli.command("import")
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@click.option("--all", "import_all", is_flag=True, help="Every site the expert can see.")
@click.pass_context
def import_(ctx: click.Context, site_ids: tuple[str, ...], import_all: bool) -> None:
    """Write sites/<id>.yaml from the platform's current state.

    Uses `owner: expert` and people.yaml handles where they apply. An existing file is
    updated in place: comments, key order and untouched values stay. Pending transfers
    are reported, not written as ownership. Afterwards `reconciler plan` shows no
    change for these sites.

    \b
    Examples:
      reconciler import legacy-landing
      reconciler import --all
    """
    from reconciler.desired.adopt import Adopter, describe_import
    from reconciler.desired.loader import inspect_repository
    from reconciler.operations.workspace import observe, open_platform

    if bool(site_ids) == import_all:
        raise click.UsageError("name the sites to import, or pass --all (not both)")
    root = _root(ctx)
    outcome = inspect_repository(root)
    if outcome.config is None:
        raise ReconcilerError("reconciler.yaml is invalid; run `reconciler validate` first")
    with open_platform(root, outcome.config, os.environ) as client:
        observed = observe(client)
    adopter = Adopter(root, outcome.config, outcome.people)
    report = adopter.import_sites(observed, None if import_all else site_ids)
    for line in describe_import(report):
        click.echo(line)
    click.echo(f"Imported: {len(report.written)} written, {len(report.unchanged)} unchanged.")


@cli.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@click.pass_context
def fmt(ctx: click.Context, check: bool) -> None:
    """Rewrite site files in one canonical layout, keeping every comment.

    Keys in the order id, name, owner, billing_contact, collaborators, package;
    e-mail addresses in lower case; collaborators sorted.

    \b
    Examples:
      reconciler fmt
      reconciler fmt --check     # in CI or pre-commit
    """
    from reconciler.desired.adopt import format_files

    changed, unreadable = format_files(_root(ctx), check=check)
    for path in changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {path}")
    for problem in unreadable:
        click.echo(f"skipped {problem}", err=True)
    if check and changed:
        click.echo(f"{len(changed)} file(s) would change; run `reconciler fmt`", err=True)
    if (check and changed) or unreadable:
        ctx.exit(1)


@cli.command()
@click.argument("site")
@format_option("text", "json")
@click.pass_context
def history(ctx: click.Context, site: str, output_format: str) -> None:
    """Show a site's owner, billing contact and collaborators over time, from git.

    One entry per commit that changed them: date, author, subject, what changed.

    \b
    Example:
      reconciler history acme-bakery
    """
    from reconciler.review.gitrepo import GitRepository, history_as_json

    with GitRepository.open(_root(ctx)) as repository:
        entries = repository.history(site)
    if not entries:
        raise ReconcilerError(f"no commit touches sites/{site}.yaml; check the site id")
    if output_format == "json":
        click.echo(history_as_json(entries))
        return
    for entry in entries:
        click.echo(
            f"{entry.sha[:10]}  {entry.date:%Y-%m-%d %H:%M}  {entry.author}\n    {entry.subject}"
        )
        for change in entry.changes:
            click.echo(f"    - {change}")


def _attach_sandbox() -> None:
    from reconciler.sandbox.cli import sandbox

    cli.add_command(sandbox)


_attach_sandbox()


def main() -> None:
    cli(prog_name="reconciler")


if __name__ == "__main__":  # pragma: no cover
    main()
