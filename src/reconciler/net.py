"""Network safety shared by the HTTP clients (platform, GitHub)."""

from __future__ import annotations

import ipaddress
import re

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: the only place a token may go over plain http."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


REDACTED = "***"

# A credential quoted with its scheme (an echoed Authorization header, a proxy's Basic
# value): the scheme stays, so the reader still sees what was sent, the value goes.
_QUOTED_CREDENTIAL = re.compile(r"\b(Bearer|Basic)(\s+)[^\s,;\"'()<>\[\]{}]+", re.IGNORECASE)


def redact(text: str, *secrets: str) -> str:
    """``text`` from a remote party with every ``secret`` and credential value cut out.

    Every text that came from the platform or GitHub (an error's detail, a body) goes
    through here before it is shown, logged or stored: a server may quote the request's
    ``Authorization`` header back. The exact secrets go first (they need not follow a
    scheme), then any ``Bearer ...`` or ``Basic ...`` value.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _QUOTED_CREDENTIAL.sub(rf"\1\2{REDACTED}", text)
