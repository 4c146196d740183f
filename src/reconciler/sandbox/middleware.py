"""The sandbox's ASGI middleware: counts every request, injects the faults of a
:class:`~reconciler.sandbox.faults.FaultSpec` (latency, 429, 503, dropped answers)."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match

from reconciler.platform.schema import ProblemDetails
from reconciler.sandbox.exchange import PROBLEM_MEDIA_TYPE, StatsCounter
from reconciler.sandbox.faults import Dice, FaultSpec, RateLimiter

logger = logging.getLogger("reconciler.sandbox")

DROP_EXTENSION = "reconciler.drop_connection"
UNFAULTED_PATHS = frozenset({"/sandbox/stats", "/openapi.json"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def problem_response(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An ``application/problem+json`` answer (RFC 9457)."""
    body = ProblemDetails(title=title, status=status, detail=detail).model_dump(mode="json")
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class SandboxMiddleware:
    """Counts every request, then injects latency, rate limiting, errors and drops."""

    def __init__(
        self, app: ASGIApp, *, faults: FaultSpec, stats: StatsCounter, routes: list[BaseRoute]
    ) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats
        self.routes = routes
        self.dice = Dice(faults)
        self.limiter = None if faults.rate_limit is None else RateLimiter(faults.rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = f"{scope['method']} {self._template(scope)}"
        status = await self._serve(scope, receive, send)
        self.stats.count(route, status)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> str:
        """Serve one request; returns the status for the counters."""
        if scope["path"] in UNFAULTED_PATHS:
            return await self._pass_through(scope, receive, send)
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        announced = self._announce(scope)
        refusal = self._refusal(announced)
        if refusal is not None:
            await refusal(scope, receive, send)
            return str(refusal.status_code)
        if self.dice.drop():
            await self._drop(scope, receive, send)
            return "dropped"
        return await self._pass_through(scope, receive, _adding(announced, send))

    def _announce(self, scope: Scope) -> dict[str, str]:
        """Spend the request's quota; the RateLimit fields that announce what is left
        (draft-ietf-httpapi-ratelimit-headers-11), with Retry-After when none is."""
        if self.limiter is None:
            return {}
        quota = self.limiter.take(_authorization(scope))
        fields = {
            "RateLimit-Policy": self.limiter.policy,
            "RateLimit": f'"default";r={quota.remaining};t={quota.reset}',
        }
        if not quota.allowed:
            fields["Retry-After"] = str(quota.reset)  # the same moment as t
        return fields

    def _refusal(self, announced: dict[str, str]) -> Response | None:
        """A 429 above the rate limit, or an injected 503; None to go ahead."""
        if "Retry-After" in announced:
            detail = f"More than {self.faults.rate_limit:g} requests per second; slow down."
            return problem_response(429, "Too Many Requests", detail, announced)
        if self.dice.fail():
            detail = "The platform is temporarily unavailable (injected fault); retry later."
            headers = {**announced, "Retry-After": "1"}
            return problem_response(503, "Service Unavailable", detail, headers)
        return None

    async def _pass_through(self, scope: Scope, receive: Receive, send: Send) -> str:
        status = "000"

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception as exc:  # a bug or a broken database: still a problem, counted
            logger.exception("%s %s failed", scope["method"], scope["path"])
            if status != "000":  # the answer has begun; the server closes the connection
                raise
            detail = f"The sandbox failed ({type(exc).__name__}); see its log."
            await problem_response(500, "Internal Server Error", detail)(scope, receive, send)
            return "500"
        return status

    async def _drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Do the work, throw the answer away, and close the connection."""

        async def discard(_: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        drop = scope.get("extensions", {}).get(DROP_EXTENSION)
        if drop is not None:
            drop()
            return
        # Without the sandbox's protocol: promise a body and end the answer short of it.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"100")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"{", "more_body": True})

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return str(getattr(route, "path", scope["path"]))
        return "(no route)"


def _adding(fields: dict[str, str], send: Send) -> Send:
    """``send`` with ``fields`` added to the answer's headers."""
    if not fields:
        return send
    extra = [(name.lower().encode(), value.encode()) for name, value in fields.items()]

    async def send_with_fields(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_fields


def _authorization(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()
    return "anonymous"


class PlatformDate:
    """Dates every answer by the platform's clock (``Date``, RFC 9110 section 6.6.1).

    Clients compute expiry and days left from it, never from their own clock; the
    sandbox's clock can be moved (``sandbox clock advance``), so the server's own
    ``Date`` must not be used (the server is told not to send one).
    """

    def __init__(self, app: ASGIApp, *, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = email.utils.format_datetime(self.clock(), usegmt=True).encode()
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"date"]
                message["headers"] = [*headers, (b"date", date)]
            await send(message)

        await self.app(scope, receive, dated)
