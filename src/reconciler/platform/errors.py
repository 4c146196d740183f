"""Errors of the platform API, raised from one place: :func:`error_for_response`.

::

    ReconcilerError
    └── PlatformError        status, problem detail, a message for a human (never the token)
        ├── BadRequest       400, 422: the request itself is wrong
        ├── Unauthorized     401: the token is missing, unknown or revoked
        ├── Forbidden        403: the caller sees the site but may not do this
        ├── NotFound         404: no such site, or the caller may not see it
        ├── Conflict         409: a platform rule refuses it (pending transfer, cap, ...)
        ├── StaleVersion     412: the site changed since the version given in If-Match
        ├── RateLimited      429: too many requests; retried after Retry-After   [retryable]
        ├── ServerError      5xx: the platform failed                             [retryable]
        └── TransportError   no usable answer: connection failed, lost, timed out [retryable]

``retryable`` on the class is the client's only retry criterion.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from reconciler.errors import ReconcilerError
from reconciler.net import redact

if TYPE_CHECKING:  # imported where a problem is parsed: `validate` needs no wire schema
    from reconciler.platform.schema import ProblemDetails


class PlatformError(ReconcilerError):
    """The platform refused or failed a request."""

    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, status: int | None = None, problem: ProblemDetails | None = None
    ):
        super().__init__(message)
        self.status = status
        self.problem = problem

    @property
    def detail(self) -> str | None:
        """The platform's explanation, meant for a human."""
        return None if self.problem is None else self.problem.detail

    @property
    def is_refusal(self) -> bool:
        """The platform said no to the request itself (see ``REFUSALS``), rather than
        failing, or refusing the token: a dry run that ends so has its answer."""
        return isinstance(self, REFUSALS)


class BadRequest(PlatformError):
    """400/422: the request is malformed or names something that does not exist."""


class Unauthorized(PlatformError):
    """401: the token is missing, unknown or revoked."""


class Forbidden(PlatformError):
    """403: the caller may see the site but not make this change."""


class NotFound(PlatformError):
    """404: the site does not exist or the caller may not see it."""


class Conflict(PlatformError):
    """409: a platform rule refuses the change in the site's current state."""


class StaleVersion(PlatformError):
    """412: the site changed since the version the caller based the change on."""


class RateLimited(PlatformError):
    """429: too many requests; ``retry_after`` says how many seconds to wait."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        problem: ProblemDetails | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, problem=problem)
        self.retry_after = retry_after


class ServerError(PlatformError):
    """5xx: the platform failed; the request may be retried."""

    retryable = True


class TransportError(PlatformError):
    """No usable answer: the connection failed, was lost or timed out."""

    retryable = True


REFUSALS: tuple[type[PlatformError], ...] = (
    BadRequest,
    Forbidden,
    NotFound,
    Conflict,
    StaleVersion,
)
"""The platform said no to the request itself (as opposed to failing, or the token)."""

_BY_STATUS: dict[int, type[PlatformError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: StaleVersion,
    422: BadRequest,
    429: RateLimited,
}


def error_class_for(status: int) -> type[PlatformError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, PlatformError)


def parse_problem(status: int, body: str, secrets: Sequence[str] = ()) -> ProblemDetails | None:
    """The problem document of an error answer, or None when the body is not one.

    Every text in it has ``secrets`` and credential values cut out (:func:`redact`).
    """
    from reconciler.platform.schema import ProblemDetails

    try:
        data = _redacted(json.loads(body), secrets)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    data.setdefault("status", status)
    data.setdefault("title", "")
    data.setdefault("detail", "")
    try:
        return ProblemDetails.model_validate(data)
    except ValidationError:
        return None


def _redacted(value: Any, secrets: Sequence[str]) -> Any:
    """A decoded JSON value with every string in it redacted (after JSON unescaping)."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, list):
        return [_redacted(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact(k, *secrets): _redacted(v, secrets) for k, v in value.items()}
    return value


def error_for_response(
    status: int,
    body: str,
    *,
    operation: str,
    retry_after: float | None = None,
    secrets: Sequence[str] = (),
) -> PlatformError:
    """Map an error answer to its exception; ``operation`` is e.g. ``PUT /v1/sites/x``.

    The platform's text is redacted of ``secrets`` (the token) and of any credential
    it quotes before it goes into the message or the kept problem.
    """
    problem = parse_problem(status, body, secrets)
    explanation = (
        problem.detail if problem is not None and problem.detail else redact(body, *secrets)[:200]
    )
    message = f"{operation} failed ({status}): {explanation}".rstrip(": ")
    cls = error_class_for(status)
    if cls is RateLimited:
        return RateLimited(message, status=status, problem=problem, retry_after=retry_after)
    return cls(message, status=status, problem=problem)
