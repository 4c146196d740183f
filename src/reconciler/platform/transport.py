"""What every HTTP client of a platform shares: one pooled ``requests`` session whose
connections obey a deadline, the retry policy and its budget, and the words for an
answer that never came. The reconciler kind's client and the Duda adapter both build on
it, so that both give up after the same attempts and say why the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from reconciler.platform.deadline import watched_pool_classes
from reconciler.platform.errors import PlatformError, TransportError

DEFAULT_DEADLINE = 60.0
"""Seconds one attempt may take in all: connecting, sending, and the whole answer."""
MAX_LATE_ATTEMPTS = 2
"""Attempts of one request that may run out their deadline before the client gives up."""


class Late(TransportError):
    """No complete answer within the deadline of an attempt."""


NO_ANSWER = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries, for one request.

    ``max_attempts`` bounds attempts against server errors and lost answers (with
    exponential backoff and full jitter). Rate limiting has its own budget, so that a
    client shared by many threads keeps going through sustained rate limiting but not
    forever: at most ``max_rate_limited`` answers 429 and ``max_rate_limit_wait``
    seconds spent waiting on ``Retry-After`` in all.
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0
    max_rate_limit_wait: float = 120.0
    max_rate_limited: int = 50


class RetryBudget:
    """What one request has spent of its :class:`RetryPolicy`; raises when it is gone."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self.late = 0
        self.limited = 0
        self.waited = 0.0

    def failed(self, error: PlatformError) -> None:
        self.failures += 1
        if isinstance(error, Late):
            self.late += 1
        # An answer that missed its whole deadline twice is not going to come: five
        # attempts of a full deadline each would hold a run for minutes.
        if self.failures >= self.policy.max_attempts or self.late >= MAX_LATE_ATTEMPTS:
            raise given_up(error, f"gave up after {_attempts(self.failures)}")

    def rate_limited(self, error: PlatformError, wait: float) -> float:
        self.limited += 1
        if self.limited >= self.policy.max_rate_limited or (
            self.waited + wait > self.policy.max_rate_limit_wait
        ):
            raise given_up(
                error,
                f"gave up after {_attempts(self.limited)} answered 429 "
                "(the platform's rate limit did not let up)",
            )
        self.waited += wait
        return wait


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def given_up(error: PlatformError, why: str) -> PlatformError:
    """``error`` with why the client stopped retrying appended to its message."""
    error.message = f"{error.message}; {why}"
    error.args = (error.message,)
    return error


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter over urllib3 pools whose connections obey :class:`Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = watched_pool_classes()


class _OwnCredentials(requests.auth.AuthBase):
    """The credentials a client puts in its own headers, left as they are.

    A session without ``auth`` of its own fills each request's in from ``~/.netrc`` (or
    ``$NETRC``), replacing the token header with Basic credentials wherever the file
    names the platform's host. Proxies and CA bundles still come from the environment.
    """

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def new_session() -> requests.Session:
    session = requests.Session()
    session.auth = _OwnCredentials()  # never .netrc's (and its parser is never imported)
    # Retries are ours (they need the idempotency key); urllib3 must not retry on its own.
    adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def brief(exc: Exception) -> str:
    """Why there was no answer, in words: the system's own reason when the chain of
    causes holds one (``Connection refused``, ``Name or service not known``), else the
    exception's name and text, cut short."""
    reason = _system_reason(exc)
    return reason if reason else f"{type(exc).__name__}: {str(exc)[:200]}"


def _system_reason(exc: BaseException) -> str | None:
    """The ``strerror`` of the first ``OSError`` among ``exc``'s causes: requests wraps
    urllib3's error, which wraps the socket's as its ``reason`` or its cause."""
    pending, seen = [exc], set()
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and isinstance(error.strerror, str) and error.strerror:
            return error.strerror
        linked = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        pending += [link for link in linked if isinstance(link, BaseException)]
    return None
