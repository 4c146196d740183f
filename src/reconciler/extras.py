"""Optional parts of reconciler (pip extras), and the line that installs a missing one.

The core install runs validate, plan, apply, status, import and fmt. What only one
feature needs is an extra, so that the core stays small: ``[github]`` is the approval
gate's GitHub client (githubkit and GitHub's REST description, over 100 MB).
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from urllib.parse import unquote

from reconciler.errors import ReconcilerError

DISTRIBUTION = "site-reconciler"

# The top-level modules each extra brings; an import of another module that fails is a
# bug, not a missing extra.
MODULES = {"github": frozenset({"githubkit", "githubkit_schemas", "hishel", "httpx"})}


class MissingExtra(ReconcilerError):
    """A feature was asked for whose extra is not installed (exit 1)."""

    def __init__(self, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs reconciler's [{extra}] extra, which is not installed "
            f"here; install it with:\n  {install_line(extra)}"
        )
        self.extra = extra


@contextmanager
def needed(extra: str, feature: str) -> Iterator[None]:
    """Around the imports of a feature: a module of ``extra`` that is missing becomes a
    ``MissingExtra`` that says what to install."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in MODULES[extra]:
            raise
        raise MissingExtra(extra, feature) from None


def install_line(extra: str) -> str:
    """The pip command that adds ``extra`` to this installation, from where it came.

    No package of this name is published on PyPI: the line names the same source
    (PEP 610's direct_url.json: a folder, editable or not, or a git commit), and a
    bare name only pinned to the installed version, which pip then keeps.
    """
    pip = f"{shlex.quote(sys.executable)} -m pip install"
    source = _source()
    if source is None:
        return f"{pip} {shlex.quote(f'{DISTRIBUTION}[{extra}]=={_version()}')}"
    url, editable = source
    if editable and url.startswith("file://"):
        folder = unquote(url.removeprefix("file://"))
        return f"{pip} -e {shlex.quote(f'{folder}[{extra}]')}"
    return f"{pip} {shlex.quote(f'{DISTRIBUTION}[{extra}] @ {url}')}"


def _source() -> tuple[str, bool] | None:
    """Where this installation came from: (url, editable), or None for an index."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    try:
        origin = json.loads(text or "null")
    except json.JSONDecodeError:
        return None
    if not isinstance(origin, dict) or not isinstance(url := origin.get("url"), str):
        return None
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(commit := vcs.get("commit_id"), str):
        return f"{vcs.get('vcs', 'git')}+{url}@{commit}", False
    editable = isinstance(info := origin.get("dir_info"), dict) and info.get("editable") is True
    return url, editable


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from reconciler import __version__

        return __version__
