"""``reconciler.yaml`` and ``people.yaml``: the project's settings and its people."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from reconciler.explain import describe
from reconciler.model import EXPERT_KEYWORD, Email
from reconciler.platform.kinds import PlatformBlock

CONFIG_FILE = "reconciler.yaml"
PEOPLE_FILE = "people.yaml"
SITES_DIR = "sites"
SANDBOX_DB = Path(".reconciler") / "sandbox.db"  # the embedded sandbox, git-ignored
SANDBOX_SEED = "sandbox.seed.yaml"
HANDLE_PATTERN = r"^[a-z][a-z0-9_.-]*$"
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _whole_number(value: Any) -> Any:
    """A count as written, a number: not text or a boolean that pydantic would read as
    one (``"3"``, ``true``), which the JSON Schema refuses too."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError(
            "whole_number", "must be a whole number, not {shown}", {"shown": describe(value)}
        )
    return value


def _written_date(value: Any) -> Any:
    """A day as written, ``2026-11-27``: not a number pydantic would read as a timestamp
    or a date and time at midnight, which the JSON Schema refuses too."""
    if (
        value is None
        or isinstance(value, date)
        or (isinstance(value, str) and re.match(ISO_DATE_PATTERN, value))
    ):
        return value
    raise PydanticCustomError("date_type", "must be a date such as 2026-11-27")


Count = Annotated[int, BeforeValidator(_whole_number)]
Day = Annotated[date, BeforeValidator(_written_date)]


ActionName = Literal[
    "collaborator.add",
    "collaborator.update",
    "collaborator.remove",
    "billing_contact.set",
    "transfer.start",
    "transfer.cancel",
    "package.purchase",
]
DEFAULT_GATED: tuple[ActionName, ...] = ("transfer.start",)


class Policy(BaseModel):
    """Safety limits per run (a plan over a limit is refused unless forced), and the
    approval gate (DESIGN.md section 8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_handovers: Count = Field(default=10, ge=0)
    max_removals: Count = Field(default=20, ge=0)
    require_approval: tuple[ActionName, ...] | None = Field(
        default=None,
        description="Actions held back unless their pull request was approved; when set, "
        "every apply checks approvals (default list: transfer.start)",
    )
    approvals: Count = Field(
        default=1, ge=1, description="Approvals a gated change needs from people with write access"
    )

    @property
    def gated_actions(self) -> tuple[ActionName, ...]:
        return DEFAULT_GATED if self.require_approval is None else self.require_approval


class Config(BaseModel):
    """``reconciler.yaml``: the expert account, the platform and the policies."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    expert: Email = Field(description="The expert account that manages these sites")
    platform: PlatformBlock | None = Field(
        default=None,
        description="Omit for the embedded sandbox; `kind:` names the platform kind "
        "(default: reconciler), whose factory checks the other keys",
    )
    policy: Policy = Field(default_factory=Policy)


class Person(BaseModel):
    """An entry of ``people.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Email
    name: str | None = None
    left: Day | None = Field(
        default=None,
        description="The day the person left: every managed site drops them (offboarding)",
    )


class People(BaseModel):
    """Handles used in site files instead of e-mail addresses."""

    model_config = ConfigDict(frozen=True)

    by_handle: Mapping[str, Person] = Field(default_factory=dict)

    def email_of(self, handle: str) -> str | None:
        person = self.by_handle.get(handle)
        return None if person is None else person.email

    def resolve(self, written: str, expert: str) -> str | None:
        """The address a site file means by ``written``: ``expert``, a handle or an
        e-mail (lower-cased, not checked); None for an unknown handle."""
        if written == EXPERT_KEYWORD:
            return expert
        if "@" in written:
            return written.strip().lower()
        return self.email_of(written)

    def departed(self) -> dict[str, date]:
        """The people who left: e-mail -> the day they left."""
        return {
            person.email: person.left
            for person in self.by_handle.values()
            if person.left is not None
        }

    def handle_of(self, email: str) -> str | None:
        """The handle of an e-mail address, for writing files (first one wins)."""
        for handle, person in sorted(self.by_handle.items()):
            if person.email == email:
                return handle
        return None
