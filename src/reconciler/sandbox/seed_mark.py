"""Which seed file a sandbox database was made from: a mark beside the database.

Apart from the seed's models (``seed.py``), so that a command on an embedded sandbox
made already (plan, status, apply) checks the mark without building them.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

# What a database was seeded from, beside it: a seed edited after the embedded sandbox
# was made from it changes nothing, which a user who edits it to add a site cannot guess.


def _seed_mark(db: Path) -> Path:
    return db.with_name(f"{db.name}.seed-sha256")


def _seed_digest(seed: Path) -> str:
    """The seed's SHA-256, or ``none`` without one (a link or an unreadable file is the
    seeding's to refuse, so it is ``none`` here too)."""
    try:
        if seed.is_symlink() or not seed.is_file():
            return "none"
        return hashlib.sha256(seed.read_bytes()).hexdigest()
    except OSError:
        return "none"


def mark_seed(db: Path, seed: Path) -> None:
    """Remember that ``db`` holds ``seed`` (or no seed); a mark that cannot be written
    only costs the notice of :func:`seed_changed`."""
    with contextlib.suppress(OSError):
        _seed_mark(db).write_text(_seed_digest(seed) + "\n", encoding="utf-8")


def seed_changed(db: Path, seed: Path) -> bool:
    """``seed`` differs from what ``db`` was last seeded from by the embedded sandbox or
    ``sandbox seed``; False for a database without a mark (made before marks were)."""
    try:
        made_from = _seed_mark(db).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return made_from != _seed_digest(seed)
