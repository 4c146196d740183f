"""A platform whose words cannot be trusted: the sandbox behind a proxy that edits them.

A real platform's refusal reasons may quote anything it was given (a client's display
name, a site name, another system's message). The proxy stands for such a platform: it
passes every request to the sandbox over real HTTP and every answer back, with each
problem's ``detail`` (a refusal reason, alone or inside a batch of dry runs) passed
through ``rewrite``.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "host"}


@contextmanager
def rewriting_proxy(upstream: str, rewrite: Callable[[str], str]) -> Iterator[str]:
    """Serve a proxy of ``upstream`` on 127.0.0.1; yields its base URL."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection = http.client.HTTPConnection(target.netloc, timeout=30)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            if "json" in (answer.getheader("Content-Type") or ""):
                data = json.dumps(_rewritten(json.loads(data), rewrite)).encode()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_PUT = do_POST = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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
