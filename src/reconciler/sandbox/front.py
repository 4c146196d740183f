"""What the sandbox does around its API, whatever carries the request: the injected
faults (latency, 429 with ``RateLimit`` fields, 503, dropped answers), the request
counters and the ``Date`` of every answer (the platform's clock).

Two transports hand requests to a :class:`Front`: the HTTP server
(:mod:`reconciler.sandbox.server`, which refuses at its edge what HTTP allows it to
refuse first) and the in-memory platform (:mod:`reconciler.sandbox.memory`, no sockets).
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable

from reconciler.sandbox.api import Api, Match, Request
from reconciler.sandbox.exchange import Answer, problem
from reconciler.sandbox.faults import Dice, FaultSpec, RateLimiter

MAX_BODY_BYTES = 1 << 20  # 1 MiB
TOO_LARGE = f"The body is over {MAX_BODY_BYTES:,} bytes (1 MiB); send less."


class Front:
    """What the sandbox does around the API: faults, counters, the answer's fields."""

    def __init__(
        self,
        api: Api,
        faults: FaultSpec | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.faults = faults or FaultSpec()
        self.dice = Dice(self.faults)
        self.sleep = sleep
        rate = self.faults.rate_limit
        self.limiter = None if rate is None else RateLimiter(rate, monotonic=monotonic)

    def respond(self, request: Request, gone: Callable[[], bool] = lambda: False) -> Answer | str:
        """:meth:`serve` of the request's route, counted by route and status (or by the
        word for why no answer is sent)."""
        match = self.api.match(request.method, request.path)
        answer = self.serve(request, match, gone)
        outcome = answer if isinstance(answer, str) else str(answer.status)
        self.api.stats.count(f"{request.method} {match.template}", outcome)
        return answer

    def date(self) -> str:
        """The ``Date`` of an answer: the platform's clock, which ``sandbox clock
        advance`` moves."""
        return email.utils.format_datetime(self.api.store.now(), usegmt=True)

    def serve(
        self, request: Request, match: Match, gone: Callable[[], bool] = lambda: False
    ) -> Answer | str:
        """The answer to ``request``, faults included; or, when none is sent, the
        counters' word for why: ``dropped`` (injected: the work was done) or
        ``abandoned`` (the client hung up during the injected latency, as a client
        killed mid-request does: the request is not carried out)."""
        if match.route is not None and not match.route.faulted:
            return self.api.answer(request, match)
        if self.faults.latency_ms:
            self.sleep(self.faults.latency_ms / 1000)
            if gone():
                return "abandoned"
        announced = self._announce(request.headers.get("authorization"))
        refusal = self._refusal(announced)
        if refusal is not None:
            return refusal
        answer = self.api.answer(request, match)
        if self.dice.drop():
            return "dropped"
        headers = {**answer.headers, **announced}
        return Answer(answer.status, answer.body, answer.media_type, headers)

    def _announce(self, authorization: str | None) -> dict[str, str]:
        """Spend the request's quota; the RateLimit fields that announce what is left
        (draft-ietf-httpapi-ratelimit-headers-11), with Retry-After when none is."""
        if self.limiter is None:
            return {}
        key = "anonymous" if authorization is None else _digest(authorization)
        quota = self.limiter.take(key)
        fields = {
            "RateLimit-Policy": self.limiter.policy,
            "RateLimit": f'"default";r={quota.remaining};t={quota.reset}',
        }
        if not quota.allowed:
            fields["Retry-After"] = str(quota.reset)  # the same moment as t
        return fields

    def _refusal(self, announced: dict[str, str]) -> Answer | None:
        """A 429 above the rate limit, or an injected 503; None to go ahead."""
        if "Retry-After" in announced:
            detail = f"More than {self.faults.rate_limit:g} requests per second; slow down."
            return problem(429, detail, announced)
        if self.dice.fail():
            detail = "The platform is temporarily unavailable (injected fault); retry later."
            return problem(503, detail, {**announced, "Retry-After": "1"})
        return None


def _digest(authorization: str) -> str:
    return hashlib.sha256(authorization.encode("latin-1", "replace")).hexdigest()
