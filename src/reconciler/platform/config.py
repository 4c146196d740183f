"""Where a platform is: the ``platform`` block of reconciler.yaml.

The platform's own model, so that a client depends on nothing above platform/; the
desired state's config holds one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value
