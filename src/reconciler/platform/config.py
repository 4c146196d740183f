"""Where a platform is: the ``platform`` block of reconciler.yaml.

The platform's own model, so that a client depends on nothing above platform/; the
desired state's config holds one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
