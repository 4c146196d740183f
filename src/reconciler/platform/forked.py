"""The platform's client in a forked child process, so that its work runs on another core.

On thousands of sites, ``plan`` spends about as much CPU on the platform's side (the
HTTP client's imports, decoding every page of the listing, the batches of dry runs) as
on reading the site files. Threads do not help: under one interpreter lock the two add
up. A child forked before the files are read holds the real platform session, and this
process sees it through :class:`ForkedPlatform`, a :class:`Platform` whose every call is
a message on a socket pair, answered with the call's result (pickled models) or the
error it raised.

Only reads and dry runs go through it: a write refuses, so the process that applies
holds its own session, with the retries and the pace it reports. The child needs no
secret that this process does not already hold (it is a fork), and it ignores Ctrl-C:
this process stops it, and the child stops by itself when this process's end of the
socket closes, whatever ended it.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from threading import Lock
from typing import Any, NoReturn

from reconciler.model import ObservedSite, Package, Role, TransferRecord
from reconciler.platform.base import Capability, DryRun, DryRunAnswer, Interest, Platform, Traits
from reconciler.platform.errors import TransportError

STOP_SECONDS = 10.0
_HEADER = struct.Struct("!Q")
_READS = frozenset({"attend", "identity", "sites", "sent_transfers", "site_transfers", "clock"})
_CALLS = _READS | {"dry_run"}

Opener = Callable[[], AbstractContextManager[Platform]]
"""Opens the real platform session (in the child): ``operations.workspace.open_platform``."""


def can_fork() -> bool:
    """Whether a child can be forked safely now: on Linux (macOS's system libraries are not
    safe to use in a forked child, and Windows cannot fork), from a process whose only
    thread is this one (a lock another thread held would stay locked in the child)."""
    import threading

    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


class ForkedPlatform:
    """A platform session held by a child process: reads and dry runs only."""

    def __init__(self, opener: Opener) -> None:
        """Fork the child, which opens the session at once; this process goes on.

        Call it with no other thread running: a fork copies only the calling thread, and
        a lock another thread held would stay locked in the child.
        """
        ours, theirs = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):
            with suppress(Exception):  # so that nothing buffered is written twice
                stream.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its work is seen through the pipe
            ours.close()
            _serve(theirs, opener)
        theirs.close()
        self._pid = pid
        self._socket = ours
        self._lock = Lock()  # one call at a time: the early preflight's thread, then ours
        self._ready: tuple[frozenset[Capability], Traits] | None = None
        self._exit_code: int | None = None

    def wait_ready(self) -> None:
        """Wait until the child has opened the session; raises what opening raised."""
        if self._ready is None:
            with self._lock:
                self._ready = self._answer()

    @property
    def capabilities(self) -> frozenset[Capability]:
        self.wait_ready()
        assert self._ready is not None
        return self._ready[0]

    @property
    def traits(self) -> Traits:
        self.wait_ready()
        assert self._ready is not None
        return self._ready[1]

    def attend(self, interest: Interest) -> None:
        self._call("attend", interest)

    def identity(self) -> str:
        found: str = self._call("identity")
        return found

    def sites(self) -> Iterator[ObservedSite]:
        listed: list[ObservedSite] = self._call("sites")
        return iter(listed)

    def sent_transfers(self) -> Iterator[TransferRecord]:
        listed: list[TransferRecord] = self._call("sent_transfers")
        return iter(listed)

    def site_transfers(self, site_id: str) -> list[TransferRecord]:
        listed: list[TransferRecord] = self._call("site_transfers", site_id)
        return listed

    def clock(self) -> datetime | None:
        found: datetime | None = self._call("clock")
        return found

    def dry_run(self, batch: Sequence[DryRun]) -> list[DryRunAnswer]:
        answers: list[DryRunAnswer] = self._call("dry_run", list(batch))
        return answers

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *, if_match: int | None, idempotency_key: str
    ) -> NoReturn:
        _no_writes()

    def delete_collaborator(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> NoReturn:
        _no_writes()

    def set_billing_contact(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> NoReturn:
        _no_writes()

    def start_transfer(
        self,
        site_id: str,
        to: str,
        stay_as_collaborator: bool,
        *,
        if_match: int | None,
        idempotency_key: str,
    ) -> NoReturn:
        _no_writes()

    def cancel_transfer(
        self, site_id: str, transfer_id: str, *, if_match: int | None, idempotency_key: str
    ) -> NoReturn:
        _no_writes()

    def purchase(
        self, site_id: str, package: Package, *, if_match: int | None, idempotency_key: str
    ) -> NoReturn:
        _no_writes()

    def close(self) -> None:
        """Ask the child to close the session and exit; killed if it has not in time."""
        if not self._lock.acquire(timeout=STOP_SECONDS):
            _kill(self._pid)  # a call that does not end: its thread now sees the end
            self._lock.acquire()
        try:
            self._stop()
        finally:
            self._lock.release()

    def _stop(self) -> None:
        if self._exit_code is not None:
            return
        try:
            _send(self._socket, ("close",))
            self._socket.settimeout(STOP_SECONDS)
            while self._socket.recv(1 << 16):  # its goodbye, then the end as it exits
                pass
        except TimeoutError:
            _kill(self._pid)
        except OSError:
            pass  # gone already
        self._socket.close()
        self._exit_code = _reap(self._pid)

    def _call(self, name: str, *args: Any) -> Any:
        self.wait_ready()
        with self._lock:
            try:
                _send(self._socket, ("call", name, args))
            except OSError:
                self._lost()
            return self._answer()

    def _answer(self) -> Any:
        try:
            outcome, value = _receive(self._socket)
        except (OSError, EOFError):
            self._lost()
        if outcome == "error":
            raise _rebuilt(*value)
        return value

    def _lost(self) -> NoReturn:
        if self._exit_code is None:
            self._socket.close()
            _kill(self._pid)  # it closed its end without a word: make sure it is gone
            self._exit_code = _reap(self._pid)
        raise TransportError(
            f"the platform's client process stopped unexpectedly (exit code {self._exit_code}); "
            "run the command again, or set RECONCILER_PLATFORM_PROCESS=never to read the "
            "platform from the command's own process"
        )


def _no_writes() -> NoReturn:
    raise AssertionError("a forked platform reads and dry-runs only; apply writes itself")


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> int:
    """The child's exit code once it has ended (negative: the signal that ended it)."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _serve(channel: socket.socket, opener: Opener) -> NoReturn:  # pragma: no cover - child
    """The child: open the session, then answer calls until told to close or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    code = 0
    try:
        with opener() as platform:
            _send(channel, ("ok", (platform.capabilities, platform.traits)))
            _answer_calls(channel, platform)
    except BaseException as exc:  # noqa: BLE001 - whatever ends the session, it is said
        with suppress(Exception):
            _send(channel, ("error", _portable(exc)))
        code = 1
    finally:
        with suppress(Exception):
            channel.close()
        os._exit(code)


def _answer_calls(channel: socket.socket, platform: Platform) -> None:  # pragma: no cover
    while True:
        try:
            message = _receive(channel)
        except (OSError, EOFError):
            return  # the parent is gone
        if message[0] != "call" or message[1] not in _CALLS:
            _send(channel, ("ok", None))  # "close", answered so that it need not wait
            return
        _, name, args = message
        try:
            result = getattr(platform, name)(*args)
            if name in ("sites", "sent_transfers"):
                result = list(result)
            answer: tuple[str, Any] = ("ok", result)
        except Exception as exc:  # noqa: BLE001 - every error goes back to the caller
            answer = ("error", _portable(exc))
        _send(channel, answer)


def _portable(exc: BaseException) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]:
    """An exception as its class, arguments and attributes, rebuilt without calling its
    ``__init__`` (``ValidationFailed(problems)`` would not take its own ``args``); one
    whose attributes do not pickle comes back as a ``TransportError`` saying what it was."""
    state = dict(vars(exc))
    if not isinstance(exc, Exception) or isinstance(exc, KeyboardInterrupt):
        exc = RuntimeError(f"the platform's client process was stopped: {exc!r}")
        state = {}
    if not _pickles((type(exc), exc.args, state)):
        return TransportError, (f"the platform's client failed: {exc}",), {}
    if not hasattr(exc, "message"):  # not a ReconcilerError: a bug, shown with where it was
        lines = traceback.format_exception(exc)
        state["__notes__"] = [*state.get("__notes__", []), "in the platform's client process:"]
        state["__notes__"].append("".join(lines).rstrip())
    return type(exc), exc.args, state


def _pickles(value: object) -> bool:
    try:
        pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - whatever fails, it is not portable
        return False
    return True


def _rebuilt(
    kind: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseException:
    exc = kind.__new__(kind, *args)
    exc.args = args
    vars(exc).update(state)
    return exc


def _send(channel: socket.socket, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    channel.sendall(_HEADER.pack(len(data)) + data)


def _receive(channel: socket.socket) -> Any:
    (size,) = _HEADER.unpack(_exactly(channel, _HEADER.size))
    return pickle.loads(_exactly(channel, size))


def _exactly(channel: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    while view:
        got = channel.recv_into(view)
        if not got:
            raise EOFError("the other process closed the channel")
        view = view[got:]
    return bytes(buffer)
