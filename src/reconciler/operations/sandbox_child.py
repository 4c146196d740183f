"""The embedded sandbox's child process, started as soon as a command may need it.

(Repositories of a few hundred sites need none: see :func:`is_small`.)

The child's own start-up (an interpreter, the store and the wire schema: about 0.2 s
of CPU) then runs on the other core while this process imports its modules and reads
the site files, instead of after them. Its socket listens from the start, so requests
wait in the queue; the child serves once told which database (after this process has
created and seeded it), and exits unused when the command turns out not to need it.

This module imports only the standard library, and subprocess only to start a child:
it runs before everything else.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

CONFIG_FILE = "reconciler.yaml"  # desired.config.CONFIG_FILE, without importing pydantic
SITES_DIR = "sites"  # desired.config.SITES_DIR
SMALL_REPOSITORY = 500  # site files: one page of the platform's listing
CHILD_STOP_SECONDS = 10
_MAX_CONFIG_BYTES = 1 << 20  # desired.reading.FILE_LIMIT's default
_PLATFORM_KEY = re.compile(rb"^platform[ \t]*:", re.MULTILINE)


class SandboxChild:
    """``python -m reconciler.sandbox.server`` on a socket this process opened."""

    def __init__(self) -> None:
        import subprocess  # here: most commands start no child (see is_small)

        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            self.port: int = listener.getsockname()[1]
            fd = listener.fileno()
            command = [sys.executable, "-m", "reconciler.sandbox.server", str(fd)]
            # Its own session: Ctrl-C is for the command, which then stops the child.
            self._process = subprocess.Popen(
                command, pass_fds=(fd,), stdin=subprocess.PIPE, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, db: Path) -> None:
        """Start serving ``db``; the child reads its path as one line of hexadecimal."""
        assert self._process.stdin is not None
        with suppress(BrokenPipeError):  # it died: the first request will say so
            self._process.stdin.write(os.fsencode(db).hex().encode() + b"\n")
            self._process.stdin.flush()

    def exit_code(self) -> int | None:
        """None while the child runs."""
        return self._process.poll()

    def stop(self) -> None:
        if self._process.stdin is not None:
            with suppress(BrokenPipeError):
                self._process.stdin.close()  # the child stops at the end of its input
        import subprocess

        try:
            self._process.wait(timeout=CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> SandboxChild:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def is_small(root: Path) -> bool:
    """Whether ``root`` has at most :data:`SMALL_REPOSITORY` site files.

    The embedded sandbox of a small repository is served by a thread of the command
    itself: a second interpreter would cost more than answering a page of sites.
    """
    try:
        with os.scandir(root / SITES_DIR) as entries:
            first = itertools.islice(entries, SMALL_REPOSITORY + 1)  # no need to count on
            return sum(1 for _ in first) <= SMALL_REPOSITORY
    except OSError:
        return True


@contextmanager
def early_sandbox(root: Path) -> Iterator[SandboxChild | None]:
    """A child started now when ``root`` probably uses the embedded sandbox and is not
    small (see :func:`is_small`); None otherwise.

    reconciler.yaml is read as plain text, before the YAML parser is even imported: a
    top-level ``platform:`` key means a configured platform. A wrong guess costs time
    only (a child that exits unused, or a sandbox started later), never a wrong platform.
    """
    try:  # at most what the loader reads (a link to /dev/zero must not hang this)
        with (root / CONFIG_FILE).open("rb") as config:
            text = config.read(_MAX_CONFIG_BYTES)
    except OSError:
        text = b"platform:"  # no readable configuration: the loader will say why
    if _PLATFORM_KEY.search(text) or is_small(root):
        yield None
        return
    with SandboxChild() as child:
        yield child
