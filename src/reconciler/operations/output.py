"""The one helper that writes a file a command produces: a plan (``plan --out``), a
status page (``status --out``), a site file (``import``).

A file that cannot be written is the user's to fix (a folder that does not exist, no
permission, a full disk): an error that names the path and the reason (exit 1), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import ReconcilerError


def write_output(path: Path, text: str, *, make_folders: bool = False) -> None:
    """Write ``text`` to ``path`` as UTF-8, its line ends as they are (CSV rows end in
    CRLF); ``make_folders`` creates its folder first (for files the command places
    itself, never for a path the user named)."""
    try:
        if make_folders:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {exc.strerror or exc}") from None
