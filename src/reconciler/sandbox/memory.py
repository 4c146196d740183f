"""The in-memory platform: the sandbox's store, rules and routes in this process, no HTTP.

For unit tests of reconcile and the operations (DESIGN.md section 4), as httpx's injected
transport is for its users: the real client (:class:`~reconciler.sandbox.client.
SandboxClient`, a :class:`~reconciler.platform.client.PlatformClient`) sends each request
through :func:`~reconciler.platform.client.in_process_session` to the sandbox's
:class:`~reconciler.sandbox.front.Front` and :class:`~reconciler.sandbox.api.Api`
instead of a socket. The platform's rules (the store), every route's validation and
problems, the faults and counters, and the client's parsing, errors and retries run as
they do over HTTP; only the socket and the server's thread are gone. It is the real
platform of the sandbox, not a mock: a test that passes here passes against
:class:`~reconciler.sandbox.server.ThreadedSandbox` (tests/operations/
test_memory_platform.py runs one scenario on both and compares them). End-to-end tests
still go over real HTTP.

::

    with MemorySandbox() as sandbox:              # SQLite in memory; or MemorySandbox(path)
        apply_seed(sandbox.store, seed)
        platform = sandbox.platform(sandbox.store.token_for(EXPERT))
        plan = Reconciler(state, platform).plan()

What the HTTP edge of the server refuses before a route is found (DESIGN.md section 4:
malformed request lines, header fields, ``Content-Length``) cannot be sent through a
``requests`` session in the first place; a body over 1 MiB is refused alike (413).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from reconciler.platform.client import InProcessAnswer, in_process_session
from reconciler.platform.deadline import Timer
from reconciler.platform.reconciler import ReconcilerPlatform
from reconciler.sandbox.api import Api, Request
from reconciler.sandbox.client import SandboxClient
from reconciler.sandbox.exchange import problem
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.front import MAX_BODY_BYTES, TOO_LARGE, Front
from reconciler.sandbox.store import Clock, SandboxStore

URL = "https://sandbox.in-memory.invalid"
"""The in-memory platform's base URL: never resolved (``.invalid``, RFC 2606), since no
request leaves the process."""
IN_MEMORY = Path(":memory:")
"""SQLite's name for a database that lives and dies with its connection."""


class _NeverExpires:
    """An attempt's deadline cuts the socket its answer comes on; here there is none,
    and the answer is whole when the handler returns."""

    def start(self) -> None:
        return None

    def cancel(self) -> None:
        return None


def _never_expires(seconds: float, expire: Callable[[], None]) -> Timer:
    return _NeverExpires()


class MemorySandbox:
    """The sandbox platform in this process; as :class:`~reconciler.sandbox.server.
    ThreadedSandbox` with ``store`` and ``url``, but clients come from :meth:`client`.

    ``clock`` is the platform's clock; ``sleep`` and ``monotonic`` are what the injected
    ``faults`` wait with and the rate limiter counts by.
    """

    def __init__(
        self,
        db_path: Path = IN_MEMORY,
        *,
        faults: FaultSpec | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = SandboxStore(db_path, clock=clock)
        self.front = Front(Api(self.store), faults, sleep=sleep, monotonic=monotonic)
        self.url = URL

    def exchange(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> InProcessAnswer | None:
        """One request, answered as the server would answer it (None: no answer comes,
        an injected dropped connection)."""
        path, _, query = target.partition("?")
        if len(body) > MAX_BODY_BYTES:
            answer = problem(413, TOO_LARGE, {"Connection": "close"})
        else:
            names = {name.lower(): value for name, value in headers.items()}
            served = self.front.respond(Request(method, path, query, names, body))
            if isinstance(served, str):
                return None
            answer = served
        fields = {"Date": self.front.date(), **answer.headers}
        if answer.status != 204:
            if answer.media_type is not None:
                fields["Content-Type"] = answer.media_type
            fields["Content-Length"] = str(len(answer.body))
        return answer.status, fields, answer.body

    def client(self, token: str, **options: Any) -> SandboxClient:
        """The real client of the account whose token this is, over no socket;
        ``options`` as :class:`~reconciler.platform.client.PlatformClient` takes them."""
        options.setdefault("deadline_timer", _never_expires)
        session = in_process_session(self.exchange)
        return SandboxClient(self.url, token, session=session, **options)

    def platform(self, token: str, **options: Any) -> ReconcilerPlatform:
        """The :class:`~reconciler.platform.base.Platform` of the account whose token
        this is: the kind ``reconciler`` over :meth:`client`."""
        return ReconcilerPlatform.over(self.client(token, **options))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> MemorySandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
