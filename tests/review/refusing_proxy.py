"""A proxy on 127.0.0.1 before the platform that refuses the writes to chosen sites.

Reads and dry runs pass; a write to a site in ``Refusals.sites`` is answered 409 with a
problem, as a platform refuses a write it will not make: the apply's change fails there,
deterministically, and the rest of the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from support.proxy import QuietHandler, relay, reply, request_body, serving

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "The site is locked for maintenance; try again later.",
    }
).encode()


@dataclass
class Refusals:
    sites: set[str] = field(default_factory=set)

    def refuses(self, method: str, path: str) -> bool:
        if method not in WRITES or "dry_run=true" in path or path.startswith("/v1/dry-runs"):
            return False
        return any(path.startswith(f"/v1/sites/{site}/") for site in self.sites)


@contextmanager
def refusing_proxy(upstream: str) -> Iterator[tuple[str, Refusals]]:
    """A proxy to ``upstream`` on a free port: its URL, and the sites it refuses."""
    refusals = Refusals()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = request_body(self)
            if refusals.refuses(self.command, self.path):
                reply(self, 409, [("Content-Type", "application/problem+json")], PROBLEM)
                return
            answer = relay(self, upstream, body)
            reply(self, answer.status, answer.headers, answer.body, answer.reason)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    with serving(Handler) as url:
        yield url, refusals
