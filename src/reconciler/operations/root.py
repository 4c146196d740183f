"""Where the repository is: found from a folder as git and Terraform find theirs.

``reconciler`` run in ``sites/`` (or any folder of the repository) looks for
``reconciler.yaml`` there, then in each folder above it, up to the top of the git work
tree it is in, and no further: a reconciler.yaml above the work tree belongs to
something else. Outside a git work tree only the folder itself is looked at.
``--root DIR`` (or ``RECONCILER_ROOT``) names the root and skips the search.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_FILE = "reconciler.yaml"  # desired.config.CONFIG_FILE, without importing pydantic


def find_root(start: Path) -> Path:
    """The folder holding reconciler.yaml, from ``start`` up to its git work tree's
    top; ``start`` itself when there is none (the command then says what is missing)."""
    start = start.resolve()
    top = work_tree_top(start)
    if top is None:
        return start
    for folder in (start, *start.parents):
        if _holds_config(folder):
            return folder
        if folder == top:
            break
    return start


def work_tree_top(start: Path) -> Path | None:
    """The top of the git work tree ``start`` is in (the folder with ``.git``, a folder
    or, in a worktree or submodule, a file), or None outside one."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _holds_config(folder: Path) -> bool:
    # A link counts as found: the loader then refuses it with its own message.
    config = folder / CONFIG_FILE
    return config.is_symlink() or config.exists()
