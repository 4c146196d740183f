"""A platform whose words cannot be trusted: the sandbox behind a proxy that edits them.

A real platform's refusal reasons may quote anything it was given (a client's display
name, a site name, another system's message). The proxy stands for such a platform: it
passes every request to the sandbox over real HTTP and every answer back, with each
problem's ``detail`` (a refusal reason, alone or inside a batch of dry runs) passed
through ``rewrite``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from support.proxy import QuietHandler, relay, reply, request_body, serving


@contextmanager
def rewriting_proxy(upstream: str, rewrite: Callable[[str], str]) -> Iterator[str]:
    """Serve a proxy of ``upstream`` on 127.0.0.1; yields its base URL."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            answer = relay(self, upstream, request_body(self), timeout=30)
            body = answer.body
            if "json" in dict(answer.headers).get("Content-Type", ""):
                body = json.dumps(_rewritten(json.loads(body), rewrite)).encode()
            reply(self, answer.status, answer.headers, body, answer.reason)

        do_PUT = do_POST = do_DELETE = do_GET

    with serving(Handler) as url:
        yield url


def _rewritten(value: Any, rewrite: Callable[[str], str]) -> Any:
    """``value`` with every problem's ``detail`` rewritten, however deep."""
    if isinstance(value, list):
        return [_rewritten(item, rewrite) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: rewrite(item)
        if key == "detail" and isinstance(item, str)
        else _rewritten(item, rewrite)
        for key, item in value.items()
    }
