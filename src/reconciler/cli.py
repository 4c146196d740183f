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
from pathlib import Path
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError

EXIT_INTERNAL_ERROR = 70
DEBUG_ENV = "RECONCILER_DEBUG"


class ReconcilerGroup(click.Group):
    """A group whose commands share one error boundary."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
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
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
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
    from reconciler.loader import inspect_repository
    from reconciler.problems import errors_in, sorted_problems
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
    from reconciler.sitefile import site_json_schema

    click.echo(site_json_schema())


def main() -> None:
    cli(prog_name="reconciler")


if __name__ == "__main__":  # pragma: no cover
    main()
