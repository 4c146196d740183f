"""The vocabulary of a plan: changes the reconciler makes and notes it reports.

Actions and note kinds are a public contract (DESIGN.md section 7): scripts read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator, model_validator

from reconciler.model import Package, Role


class Action(StrEnum):
    COLLABORATOR_ADD = "collaborator.add"
    COLLABORATOR_UPDATE = "collaborator.update"
    COLLABORATOR_REMOVE = "collaborator.remove"
    BILLING_CONTACT_SET = "billing_contact.set"
    TRANSFER_START = "transfer.start"
    TRANSFER_CANCEL = "transfer.cancel"
    PACKAGE_PURCHASE = "package.purchase"


class Phase(IntEnum):
    """The order of changes within a site (DESIGN.md section 5).

    Access is granted before anything else and revoked last, so nobody loses access
    that a later step needs; a wrong pending transfer is cancelled just before the right
    one starts; the package is bought after the transfer decision is made.
    """

    GRANT = 0
    BILLING = 1
    TRANSFER_CANCEL = 2
    TRANSFER_START = 3
    PURCHASE = 4
    REVOKE = 5


class NoteKind(StrEnum):
    WAITING = "waiting"
    BLOCKED = "blocked"
    UNMANAGED = "unmanaged"
    WARNING = "warning"


class Change(BaseModel):
    """One write the reconciler will make on one site."""

    model_config = ConfigDict(frozen=True)

    site: str
    action: Action
    details: Mapping[str, Any]

    @field_validator("details", mode="after")
    @classmethod
    def _freeze(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        return MappingProxyType(dict(value))

    @field_serializer("details")
    def _plain_details(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)

    @model_validator(mode="after")
    def _details_fit_the_action(self) -> Change:
        """What apply needs is there: a plan file edited by hand fails here, not midway."""
        missing = [key for key in _REQUIRED_DETAILS[self.action] if key not in self.details]
        if missing:
            raise ValueError(f"{self.action.value} needs {', '.join(missing)} in its details")
        role, package = self.details.get("role"), self.details.get("package")
        if "role" in _REQUIRED_DETAILS[self.action] and role not in _ROLES:
            raise ValueError(f"{role!r} is not a role (viewer, editor, admin)")
        if self.action is Action.PACKAGE_PURCHASE and package not in _PACKAGES:
            raise ValueError(f"{package!r} is not a package (free, premium)")
        return self

    @property
    def phase(self) -> Phase:
        if self.action is Action.COLLABORATOR_UPDATE:
            return Phase.GRANT if self.details.get("raises", False) else Phase.REVOKE
        return _PHASE_OF[self.action]

    @property
    def is_handover(self) -> bool:
        return self.action is Action.TRANSFER_START

    @property
    def is_removal(self) -> bool:
        return self.action is Action.COLLABORATOR_REMOVE

    def sort_key(self) -> tuple[str, int, str, str]:
        subject = str(self.details.get("email") or self.details.get("to") or "")
        return (self.site, self.phase, subject, self.action.value)


_REQUIRED_DETAILS: dict[Action, tuple[str, ...]] = {
    Action.COLLABORATOR_ADD: ("email", "role"),
    Action.COLLABORATOR_UPDATE: ("email", "role"),
    Action.COLLABORATOR_REMOVE: ("email",),
    Action.BILLING_CONTACT_SET: ("email",),
    Action.TRANSFER_START: ("to", "stay_as_collaborator"),
    Action.TRANSFER_CANCEL: ("transfer_id",),
    Action.PACKAGE_PURCHASE: ("package",),
}
_ROLES = frozenset(role.value for role in Role)
_PACKAGES = frozenset(package.value for package in Package)

_PHASE_OF = {
    Action.COLLABORATOR_ADD: Phase.GRANT,
    Action.BILLING_CONTACT_SET: Phase.BILLING,
    Action.TRANSFER_CANCEL: Phase.TRANSFER_CANCEL,
    Action.TRANSFER_START: Phase.TRANSFER_START,
    Action.PACKAGE_PURCHASE: Phase.PURCHASE,
    Action.COLLABORATOR_REMOVE: Phase.REVOKE,
}


class Note(BaseModel):
    """Something the plan reports but does not do: waiting, blocked, unmanaged, warning."""

    model_config = ConfigDict(frozen=True)

    site: str
    kind: NoteKind
    message: str

    def sort_key(self) -> tuple[str, str, str]:
        return (self.site, self.kind.value, self.message)
