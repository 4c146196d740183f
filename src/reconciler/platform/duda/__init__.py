"""The platform kind ``duda``: Duda's Partner API (DESIGN.md section 9).

``platform: {kind: duda, ...}`` in reconciler.yaml manages client access (and, with
``plans:``, site plans) on Duda with the same site files. This module holds what
``validate`` needs, the configuration and the factory, and imports no HTTP library;
the platform (:mod:`.platform`) and its client (:mod:`.api`) are loaded when a command
talks to Duda.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reconciler.errors import ConfigError
from reconciler.model import Package, Role
from reconciler.platform.config import ENV_NAME_PATTERN, check_transport_security
from reconciler.platform.kinds import PlatformBlock, SecretMissing

if TYPE_CHECKING:
    from reconciler.platform.duda.platform import DudaPlatform

DEFAULT_URL = "https://api.duda.co/api"
DUDA_HARD_LIMIT = 10  # requests a second, for every endpoint (Duda's getting started)
ALL: Literal["all"] = "all"
"""A role mapped to every permission name Duda lists (GET /accounts/permissions/multiscreen)."""

PermissionSet = list[str] | Literal["all"]


class DudaRoles(BaseModel):
    """Duda permission names per role; a role left out keeps its default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    viewer: PermissionSet = Field(
        default_factory=lambda: ["STATS_TAB"],
        description="Permissions of a viewer (default: the site's statistics)",
    )
    editor: PermissionSet = Field(
        default_factory=lambda: [
            "EDIT",
            "LIMITED_EDITING",
            "PUBLISH",
            "REPUBLISH",
            "SEO",
            "BLOG",
            "BACKUPS",
            "CONTENT_LIBRARY",
        ],
        description="Permissions of an editor",
    )
    admin: PermissionSet = Field(
        default=ALL, description="Permissions of an admin (default: `all`, every name)"
    )

    @field_validator("viewer", "editor", "admin")
    @classmethod
    def _not_empty(cls, value: PermissionSet) -> PermissionSet:
        if value == ALL:
            return value
        if not value:
            # An empty list grants nothing on today's Duda and everything on older
            # editions of its API (DESIGN.md section 9): never one.
            raise ValueError(
                "a role must be mapped to at least one permission name (or `all`); "
                "an empty set grants nothing on Duda, or everything on older editions"
            )
        names = [name.strip() for name in value]
        if any(not name for name in names):
            raise ValueError("a permission name may not be empty")
        return list(dict.fromkeys(names))

    def of(self, role: Role) -> PermissionSet:
        value: PermissionSet = getattr(self, role.value)
        return value


class DudaConfig(BaseModel):
    """reconciler.yaml's ``platform`` block for ``kind: duda`` (DESIGN.md section 9)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(
        default=DEFAULT_URL,
        description="Duda's API: https://api.duda.co/api, https://api.eu.duda.co/api "
        "(EU) or https://api-sandbox.duda.co/api",
    )
    user_env: str = Field(
        default="DUDA_API_USER", description="The variable that holds the API user"
    )
    password_env: str = Field(
        default="DUDA_API_PASS", description="The variable that holds the API password"
    )
    rate_limit: float = Field(
        default=8,
        description="Requests a second, 1 to 10 (Duda's hard limit is 10; it recommends 8)",
    )
    roles: DudaRoles = Field(default_factory=DudaRoles)
    plans: Mapping[Package, int] | None = Field(
        default=None,
        description="Package -> Duda planId; without it packages are not managed",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if "@" in parts.netloc:
            raise ValueError(
                "the URL holds a user name or password; they come from the variables "
                "user_env and password_env name: remove the part before @"
            )
        return value.rstrip("/")

    @field_validator("rate_limit")
    @classmethod
    def _within_dudas_limit(cls, value: float) -> float:
        if not 1 <= value <= DUDA_HARD_LIMIT:
            raise ValueError(
                f"must be from 1 to {DUDA_HARD_LIMIT} requests a second, not {value:g} "
                f"(Duda's hard limit is {DUDA_HARD_LIMIT}; it recommends 8 for batch jobs)"
            )
        return value

    @field_validator("user_env", "password_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @field_validator("plans")
    @classmethod
    def _plan_ids(cls, value: Mapping[Package, int] | None) -> Mapping[Package, int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("map at least one package to a Duda planId, or leave plans out")
        if any(plan_id < 0 for plan_id in value.values()):
            raise ValueError("a Duda planId is a number of 0 or more")
        if len(set(value.values())) != len(value):
            raise ValueError("two packages map to the same Duda planId")
        return dict(value)

    @model_validator(mode="after")
    def _distinct_roles(self) -> DudaConfig:
        sets = [self.roles.of(role) for role in Role]
        if len({ALL if s == ALL else frozenset(s) for s in sets}) != len(sets):
            raise ValueError(
                "roles: two roles have the same permissions, so a set read back from Duda "
                "could not tell them apart"
            )
        return self


def duda_platform(block: PlatformBlock, environ: Mapping[str, str]) -> DudaPlatform:
    """The factory of kind ``duda`` (entry point ``reconciler.platforms``): the block
    checked at file:line, the API user and password from the variables it names."""
    settings = block.parse(DudaConfig)
    try:
        check_transport_security(settings.url)
    except ConfigError as exc:
        raise block.error("url", exc.message.replace("API token", "API password")) from None
    user, password = credentials(settings, environ)
    from reconciler.platform.duda.platform import DudaPlatform

    return DudaPlatform(settings, user, password)


def credentials(settings: DudaConfig, environ: Mapping[str, str]) -> tuple[str, str]:
    """The API user and password from the environment; ``SecretMissing`` names the
    variables (never a value) when one is unset or unusable."""
    names = f"{settings.user_env} and {settings.password_env}"
    found: list[str] = []
    for name in (settings.user_env, settings.password_env):
        value = environ.get(name, "").strip()
        if not value:
            raise SecretMissing(
                f"the environment variable {name} is not set; {names} must hold Duda's API "
                f"user and password for {settings.url} (platform.user_env and "
                "platform.password_env in reconciler.yaml)"
            )
        if not (value.isprintable() and " " not in value):
            raise SecretMissing(
                f"the environment variable {name} holds spaces or control characters; "
                "check it (a stray newline?)"
            )
        found.append(value)
    if ":" in found[0]:
        raise SecretMissing(
            f"the environment variable {settings.user_env} holds a colon, which HTTP Basic "
            "authentication cannot send in a user name"
        )
    return found[0], found[1]
