"""Where the platform of kind ``reconciler`` is: its block of reconciler.yaml, and the
checks made before a token is sent anywhere.

Kept apart from the client, so that checking a configuration (``validate``) imports no
HTTP library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.errors import ConfigError
from reconciler.net import is_loopback

ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _without_credentials(url: str) -> str:
    """``url`` with everything between ``://`` and its last ``@`` replaced by ``***``.

    Up to the LAST ``@``: a password may hold ``#``, ``/`` or ``?``, which end the
    authority for a URL parser and would leave the password in the "path".
    """
    scheme, slashes, rest = url.partition("://")
    if not slashes or "@" not in rest:
        return url
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


class PlatformConfig(BaseModel):
    """Where the platform's API is, and which environment variable holds the token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Base URL of the platform API, e.g. https://platform.example/api")
    token_env: str = Field(
        default="PLATFORM_TOKEN",
        description="Name of the environment variable that holds the API token",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        shown = _without_credentials(value)  # a password in the URL is never printed
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{shown!r} is not an http(s) URL")
        if "@" in value:  # requests would send it as Basic auth instead of the token
            raise ValueError(
                f"{shown!r} holds a user name or password; the token comes from the variable "
                "token_env names, never from the URL: remove the part before @"
            )
        return value.rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value


def check_transport_security(base_url: str) -> None:
    """Refuse to send a token over plain http unless the host is this machine."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(f"the platform URL {base_url!r} is not an http(s) URL")
    if not is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send the API token over plain http to {parts.hostname}; "
            "use an https:// URL (plain http is only allowed for localhost, 127.0.0.1 and ::1)"
        )


def check_token(token: str) -> None:
    """Refuse a token that cannot travel in a header as it is."""
    if not token:
        raise ConfigError("the platform API token is empty")
    if not (token.isascii() and token.isprintable() and " " not in token):
        raise ConfigError(
            "the platform API token contains spaces, control or non-ASCII characters; "
            "check the variable that holds it (a stray newline?)"
        )


def token_from(platform: PlatformConfig, environ: Mapping[str, str]) -> str:
    """The token in the variable ``token_env`` names, stripped; an error if it is unset."""
    token = environ.get(platform.token_env, "")
    if not token.strip():
        raise ConfigError(
            f"the environment variable {platform.token_env} is not set; it must hold "
            f"the API token for {platform.url} (see platform.token_env in reconciler.yaml)"
        )
    return token.strip()
