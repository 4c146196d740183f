"""Answers map to exceptions in one place; ``retryable`` drives retries."""

from __future__ import annotations

import pytest

from reconciler.errors import ReconcilerError
from reconciler.platform import errors
from reconciler.platform.client import parse_etag, parse_retry_after


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, errors.BadRequest, False),
        (401, errors.Unauthorized, False),
        (403, errors.Forbidden, False),
        (404, errors.NotFound, False),
        (409, errors.Conflict, False),
        (412, errors.StaleVersion, False),
        (422, errors.BadRequest, False),
        (429, errors.RateLimited, True),
        (500, errors.ServerError, True),
        (503, errors.ServerError, True),
        (418, errors.PlatformError, False),
    ],
)
def test_status_maps_to_class(
    status: int, cls: type[errors.PlatformError], retryable: bool
) -> None:
    body = f'{{"title": "t", "status": {status}, "detail": "what to do"}}'
    error = errors.error_for_response(status, body, operation="GET /v1/x")
    assert type(error) is cls
    assert isinstance(error, ReconcilerError)
    assert error.retryable is retryable
    assert (error.status, error.detail) == (status, "what to do")
    assert str(error) == f"GET /v1/x failed ({status}): what to do"


def test_a_body_that_is_not_a_problem_is_kept_short() -> None:
    error = errors.error_for_response(502, "<html>" + "x" * 500, operation="GET /v1/me")
    assert error.problem is None
    assert len(str(error)) < 250


def test_transport_errors_are_retryable() -> None:
    assert errors.TransportError("lost").retryable


def test_headers_are_parsed() -> None:
    assert [parse_etag(v) for v in ('"3"', 'W/"4"', "x", None)] == [3, 4, None, None]
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
