"""Duda's Partner API over HTTP: one pooled ``requests`` session, paced, retried.

What it shares with the client of kind ``reconciler`` (:mod:`reconciler.platform.client`):
the deadline of one attempt, the retry budget (:class:`RetryPolicy`), the pacer, and the
rule that the credentials never reach a log, a message or a repr. What differs is Duda's:

- HTTP Basic authentication, sent with every request;
- no rate-limit fields and no ``Retry-After``: the client paces itself at the configured
  ``rate_limit`` (Create Account also at 60 a minute) and backs off exponentially, with
  full jitter, when Duda answers 429;
- errors are 400 ``{"error_code", "message"}``: ``ResourceNotExist`` is
  :class:`NotFound`, ``ResourceAlreadyExist`` :class:`Conflict`, ``AccessForbidden``
  :class:`Forbidden`, ``InvalidInput`` :class:`BadRequest`, ``InternalError`` a
  :class:`ServerError`; 401 names the variables that hold the credentials;
- no ETag, If-Match or Idempotency-Key: every write is idempotent by its nature, so a
  write whose answer was lost is simply sent again.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from reconciler.platform import http_stack  # noqa: F401  # first: see its docstring

# isort: split
import requests

from reconciler.net import redact
from reconciler.platform.deadline import Deadline, TimerFactory, thread_timer
from reconciler.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PlatformError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from reconciler.platform.pacing import SAFETY, Announced, Pacer
from reconciler.platform.schema import ProblemDetails
from reconciler.platform.transport import (
    DEFAULT_DEADLINE,
    NO_ANSWER,
    Late,
    RetryBudget,
    RetryPolicy,
    brief,
    new_session,
)

logger = logging.getLogger("reconciler.platform")

CREATE_ACCOUNT_PER_MINUTE = 60  # Duda's limit of POST /accounts/create
MAX_BACKOFF = 2.0  # seconds; Duda's own client waits 2 s after a 429 (DudaDev/partner-api)

_BY_CODE: Mapping[str, type[PlatformError]] = {
    "ResourceNotExist": NotFound,
    "ResourceAlreadyExist": Conflict,
    "AccessForbidden": Forbidden,
    "InvalidInput": BadRequest,
    "InternalError": ServerError,
}


class DudaError(PlatformError):
    """An error answer of Duda's that fits no other class."""


def _error_class(status: int, code: str | None) -> type[PlatformError]:
    if status == 401:
        return Unauthorized
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    return {403: Forbidden, 404: NotFound}.get(status, BadRequest if status == 400 else DudaError)


def error_code(error: PlatformError) -> str | None:
    """Duda's ``error_code`` of an error raised here (None when it sent none)."""
    return error.problem.title or None if error.problem is not None else None


_NOTHING_ANNOUNCED = Announced()  # Duda sends no RateLimit fields


class _Credentials:
    """The API user and password, as the ``Authorization`` header; no repr shows them."""

    __slots__ = ("_header", "_password", "_user")

    def __init__(self, user: str, password: str) -> None:
        self._user = user
        self._password = password
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def header(self) -> str:
        return self._header

    def secrets(self) -> tuple[str, ...]:
        return (self._password, self._header.removeprefix("Basic "))

    def __repr__(self) -> str:
        return "<credentials>"

    __str__ = __repr__


class DudaClient:
    """Duda's API for one partner account; safe to share between threads.

    ``variables`` names the environment variables of the credentials, for the message
    of a 401. Everything that reads the clock is injected: ``sleep`` (between retries),
    ``monotonic`` (the pacers' clock), ``deadline_timer``.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        rate_limit: float,
        variables: tuple[str, str] = ("DUDA_API_USER", "DUDA_API_PASS"),
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 30),
        deadline: float = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        deadline_timer: TimerFactory = thread_timer,
        seed: int | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = _Credentials(user, password)
        self.variables = variables
        self.rate_limit = rate_limit
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        self.timeout = timeout
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self.pacer = Pacer(monotonic=monotonic, sleep=sleep, rate=rate_limit)
        creations = CREATE_ACCOUNT_PER_MINUTE / 60 * SAFETY
        self.create_pacer = Pacer(monotonic=monotonic, sleep=sleep, rate=creations)
        self._deadline_timer = deadline_timer
        self._last_date: datetime | None = None
        self.requests = 0  # sent, retries included (benchmarks count them)

    def __repr__(self) -> str:
        return f"DudaClient({self.base_url!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def last_date(self) -> datetime | None:
        """The ``Date`` of Duda's latest answer (its clock, as near as it says)."""
        return self._last_date

    # -- the one place where requests are sent, retried and mapped to errors --

    def get(self, *segments: str, params: Mapping[str, int] | None = None) -> Any:
        return self.request("GET", segments, params=params)

    def request(
        self,
        method: str,
        segments: tuple[str, ...],
        *,
        params: Mapping[str, int] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Any:
        """The decoded JSON answer (None for 204); raises the mapped error."""
        path = path_of(*segments)
        operation = f"{method} {path}"
        budget = RetryBudget(self.retry)
        while True:
            outcome = self._attempt(operation, method, path, params, body)
            if not isinstance(outcome, PlatformError):
                return outcome
            delay = self._retry_delay(outcome, budget)
            logger.info("%s: %s; retrying in %.2fs", operation, type(outcome).__name__, delay)
            self._sleep(delay)

    def _attempt(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, int] | None,
        body: Mapping[str, object] | None,
    ) -> Any:
        """One try within the deadline: the decoded answer, or the error it ended in."""
        if path == "/accounts/create":
            self.create_pacer.wait()
            self.create_pacer.done()
        self.pacer.wait()
        self.requests += 1
        try:
            answered = self._exchange(operation, method, path, params, body)
        finally:
            self.pacer.done()
        if isinstance(answered, PlatformError):
            return answered
        status, content = answered
        logger.debug("%s -> %s", operation, status)
        if status >= 400:
            return self._error(operation, status, content)
        if not content.strip():
            return None
        try:
            return json.loads(content)
        except ValueError:
            return PlatformError(
                f"{operation}: Duda's answer ({status}) is not JSON", status=status
            )

    def _exchange(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, int] | None,
        body: Mapping[str, object] | None,
    ) -> tuple[int, bytes] | PlatformError:
        """Status and body of one exchange within the deadline, or why there is none."""
        headers = {"Accept": "application/json", "Authorization": self._credentials.header()}
        connect, read = self.timeout
        timeout = (min(connect, self.deadline), min(read, self.deadline))
        late = Late(
            f"{operation}: no complete answer from {self.base_url} within the deadline of "
            f"{self.deadline:g} s"
        )
        try:
            with Deadline(self.deadline, timer=self._deadline_timer) as deadline:
                response = self._session.request(
                    method, self.base_url + path, params=params, json=body,
                    headers=headers, timeout=timeout,
                )  # fmt: skip
                content = response.content
        except NO_ANSWER as exc:
            if deadline.expired:
                return late
            why = redact(brief(exc), *self._credentials.secrets())
            return TransportError(f"{operation}: no answer from {self.base_url} ({why})")
        except requests.RequestException as exc:
            raise TransportError(
                f"{operation}: the request to {self.base_url} could not be sent "
                f"({type(exc).__name__})"
            ) from None
        if deadline.expired:  # cut off: what was read may look whole
            return late
        self.pacer.learn(_NOTHING_ANNOUNCED, status=response.status_code, retry_after=None)
        self._note_date(response.headers.get("Date"))
        return response.status_code, content

    def _error(self, operation: str, status: int, content: bytes) -> PlatformError:
        secrets = self._credentials.secrets()
        if status == 401:
            user, password = self.variables
            return Unauthorized(
                f"{operation}: Duda refused the API credentials (401); check that {user} "
                f"and {password} hold the API user and password of the partner account "
                f"for {self.base_url} (platform.user_env and platform.password_env)",
                status=401,
            )
        text = redact(content.decode("utf-8", "replace"), *secrets)
        code, said = _error_body(text)
        explanation = said or text[:200]
        message = f"{operation} failed ({status}{', ' + code if code else ''}): {explanation}"
        # Duda's error_code is kept as the problem's title (``error_code(error)``).
        problem = ProblemDetails(title=code or "", status=status, detail=said or "")
        return _error_class(status, code)(message.rstrip(": "), status=status, problem=problem)

    def _retry_delay(self, error: PlatformError, budget: RetryBudget) -> float:
        """Seconds to wait before the next try; raises ``error`` to give up."""
        if not error.retryable:
            raise error
        if isinstance(error, RateLimited):
            # No Retry-After on Duda: wait a pacer's slot, doubled each time, with full
            # jitter so that threads that were refused together do not return together.
            ceiling = min(MAX_BACKOFF, 2**budget.limited / self.rate_limit)
            return budget.rate_limited(error, ceiling / 2 + self._jitter(ceiling / 2))
        budget.failed(error)
        policy = self.retry
        return self._jitter(min(policy.max_delay, policy.base_delay * 2 ** (budget.failures - 1)))

    def _jitter(self, ceiling: float) -> float:
        with self._random_lock:
            return self._random.uniform(0.0, ceiling)

    def _note_date(self, value: str | None) -> None:
        try:
            moment = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            self._last_date = moment


def _error_body(text: str) -> tuple[str | None, str | None]:
    """``error_code`` and ``message`` of Duda's error body, where it is one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code, message = data.get("error_code"), data.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


def path_of(*segments: str) -> str:
    """``/accounts/x/sites/y/permissions`` with each segment escaped (``@`` stays)."""
    return "/" + "/".join(quote(segment, safe="@") for segment in segments)
