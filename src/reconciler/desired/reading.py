"""Reading a file's text the one guarded way: inside the repository, within a size limit.

DESIGN.md section 7: a file the repository holds (site files, people.yaml,
reconciler.yaml, sandbox.seed.yaml) must resolve inside the repository, so that a
symbolic link to ``/etc/passwd`` or a ``.env`` is refused by its path and its content is
never read, shown or rewritten. A link inside the repository is refused as well: the
uncommitted-changes check, ``--changed-since`` and the review see a file's own path in
git, not a link's target. A path the user names on the command line is theirs.
Sizes are checked before a byte is parsed: 1 MiB a site or config file, 64 MiB a plan
file, raised with ``RECONCILER_MAX_FILE_BYTES`` and ``RECONCILER_MAX_PLAN_BYTES``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError

MIB = 1 << 20
OUTSIDE = (
    "is a link to a file outside the repository; a file the repository holds must be "
    "inside it: replace the link by the file"
)
OUTSIDE_FOLDER = (
    "is a link to a folder outside the repository; the files the repository holds must "
    "be inside it: replace the link by the folder"
)
LOOP = "is a symbolic link that loops; replace it by the file"
# Inside the repository too: the uncommitted-changes check, --changed-since and the
# review all look at a file's own path in git, and a link's target changes elsewhere.
LINK = (
    "is a symbolic link; a file the repository holds must be the file itself, so that "
    "every change to it shows in its own diff: replace the link by the file"
)
LINK_FOLDER = (
    "is a symbolic link; the folder of site files must be the folder itself, so that "
    "every change to a site file shows in its own diff: replace the link by the folder"
)


class FileRefused(ConfigError):
    """A file that is not read: outside the repository, too large, unreadable, a loop.

    ``reason`` is the message without the file's name, for a problem at a location.
    """

    def __init__(self, display: str, reason: str) -> None:
        super().__init__(f"{display} {reason}")
        self.display = display
        self.reason = reason


class NotUtf8(FileRefused):
    """The bytes are not UTF-8 text."""


@dataclass(frozen=True)
class SizeLimit:
    """The largest file of a kind, in bytes, raised (or lowered) by an environment
    variable."""

    default: int
    env: str
    kind: str
    advice: str

    def max_bytes(self, environ: Mapping[str, str] | None = None) -> int:
        text = (os.environ if environ is None else environ).get(self.env, "").strip()
        if not text:
            return self.default
        if not text.isdigit() or int(text) == 0:
            raise ConfigError(
                f"{self.env}={text!r} is not a number of bytes; give a whole number such as "
                f"{2 * self.default}"
            )
        return int(text)

    def too_large(self, max_bytes: int) -> str:
        shown = f"{max_bytes // MIB} MiB" if max_bytes % MIB == 0 else f"{max_bytes} bytes"
        return f"is larger than {shown} (the limit for {self.kind}); {self.advice} {self.env}"


FILE_LIMIT = SizeLimit(
    MIB,
    "RECONCILER_MAX_FILE_BYTES",
    "a file the repository holds",
    "split it, or raise the limit with",
)
PLAN_LIMIT = SizeLimit(64 * MIB, "RECONCILER_MAX_PLAN_BYTES", "a plan file", "raise the limit with")


def read_text(
    path: Path | str,
    display: str,
    limit: SizeLimit,
    *,
    root: Path | None = None,
    max_bytes: int | None = None,
) -> str:
    """The UTF-8 text of ``path``; ``FileRefused`` says why not.

    With ``root``, the file is one the repository holds and must resolve inside it.
    Never reads more than the limit, whatever the file claims its size is (``/dev/zero``).
    ``max_bytes``: ``limit.max_bytes()``, when a reader of many files has asked it once.
    """
    if max_bytes is None:
        max_bytes = limit.max_bytes()
    data = _read_bounded(path, display, max_bytes, limit, root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(display, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def not_a_link(path: Path, display: str, root: Path, *, folder: bool = False) -> Path:
    """``path`` itself, refused when it is a symbolic link (leading anywhere at all).

    Where a link leads outside the repository or loops, the refusal says so.
    """
    if path.is_symlink():
        inside(path, display, root)
        raise FileRefused(display, LINK_FOLDER if folder else LINK)
    return path


def inside(path: Path, display: str, root: Path) -> Path:
    """``path`` with its links resolved, refused when that leaves ``root``.

    A path that does not exist yet is fine (a file about to be written), unless it is a
    link that would lead outside.
    """
    try:
        resolved = path.resolve(strict=False)
    except RuntimeError:  # Python 3.11 reports a loop so, whatever ``strict`` says
        raise FileRefused(display, LOOP) from None
    except OSError as exc:
        raise _refused(display, exc) from None
    if not resolved.is_relative_to(root.resolve()):
        raise FileRefused(display, OUTSIDE_FOLDER if resolved.is_dir() else OUTSIDE)
    return resolved


def _read_bounded(
    path: Path | str, display: str, max_bytes: int, limit: SizeLimit, root: Path | None
) -> bytes:
    try:
        fd = _open(path, display, root)
    except OSError as exc:
        raise _refused(display, exc) from None
    try:
        return _read_fd(fd, display, max_bytes, limit)
    finally:
        os.close(fd)


def _read_fd(fd: int, display: str, max_bytes: int, limit: SizeLimit) -> bytes:
    """At most ``max_bytes`` (and one more, to tell) from ``fd``, in as few calls as can be.

    A plain file that says its size is read in one call: a regular file reads short only
    at its end. Anything else (a device such as /dev/zero claims no size; a file that
    grew) is read on until its end or just past the limit.
    """
    info = os.fstat(fd)
    size = info.st_size
    if size > max_bytes:  # before a byte is read
        raise FileRefused(display, limit.too_large(max_bytes))
    try:
        # Asking for the size the file claims (and one byte more) rather than the limit:
        # 10,000 site files must not each cost a buffer of the limit's size.
        data = os.read(fd, size + 1) if size else b""
        if len(data) > size or not size or not stat.S_ISREG(info.st_mode):
            data += _read_until(fd, max_bytes + 1 - len(data))
    except OSError as exc:
        raise _refused(display, exc) from None
    if len(data) > max_bytes:  # a device or a file that grew: its size lied
        raise FileRefused(display, limit.too_large(max_bytes))
    return data


def _read_until(fd: int, wanted: int) -> bytes:
    """Up to ``wanted`` bytes, reading until the end of ``fd``."""
    chunks = []
    while wanted > 0:
        chunk = os.read(fd, min(wanted, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _open(path: Path | str, display: str, root: Path | None) -> int:
    """A descriptor for ``path``; within ``root`` only, when one is given.

    A plain file opens at once (``O_NOFOLLOW``: no link is followed); a link is resolved
    and checked first. The folders above are the repository's own (the caller resolved
    the root, and a folder of site files is checked with ``inside``).
    """
    if root is None:
        return os.open(path, os.O_RDONLY)
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # ELOOP: the last part is a link
            raise
    inside(Path(path), display, root)  # says so when the link leads outside or loops
    raise FileRefused(display, LINK)


def _refused(display: str, exc: OSError) -> FileRefused:
    if exc.errno == errno.ELOOP:
        return FileRefused(display, LOOP)
    return FileRefused(display, f"cannot be read: {exc.strerror or exc}")
