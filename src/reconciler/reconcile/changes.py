"""The vocabulary of a plan: changes the reconciler makes and notes it reports.

Each action is a class of its own (``CollaboratorAdd``, ``TransferStart``, ...) that
carries its typed fields and its place in the order of a site's changes, so mypy checks
every field that apply and the renderers read. ``Change`` is their union, told apart by
``action``. Actions and note kinds are a public contract (DESIGN.md section 7): a change
serialises as ``{"site", "action", "details": {...}}``, exactly the plan JSON of
format_version 1, and plan files written before the classes existed still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import IntEnum, StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from reconciler.model import Package, Role
from reconciler.platform.base import Capability

if TYPE_CHECKING:
    from pydantic import TypeAdapter


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

    At the collaborator cap the order adapts, so that one reviewed change is enough: a
    package the expert buys to raise the cap comes first (``RAISE_CAP``), or else the
    removals that make room come before the additions (``MAKE_ROOM``).
    """

    RAISE_CAP = -2
    MAKE_ROOM = -1
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
    DRIFT = "drift"
    WARNING = "warning"
    INFO = "info"


class NoteCode(StrEnum):
    """What a note is about, for scripts and reports that group notes (the drift issue's
    sections, ``status``); the message says it to a person."""

    HANDOVER_PENDING = "handover.pending"
    HANDOVER_EXPIRING = "handover.expiring"
    HANDOVER_DECLINED = "handover.declined"
    HANDOVER_EXPIRED = "handover.expired"
    HANDOVER_FINISHED = "handover.finished"
    PREFLIGHT_REFUSED = "preflight.refused"
    DRIFT_LOST_ACCESS = "drift.lost_access"
    DRIFT_FOREIGN_TRANSFER = "drift.foreign_transfer"
    PERSON_LEFT = "person.left"
    PLATFORM_NO_IDENTITY = "platform.no_identity"
    PLATFORM_NO_CLOCK = "platform.no_clock"
    PLATFORM_NO_TRANSFER_MEMORY = "platform.no_transfer_memory"
    PLATFORM_NO_PREFLIGHT = "platform.no_preflight"
    PLATFORM_LIMIT = "platform.limit"


PLATFORM_WIDE = "(platform)"
"""The ``site`` of a note about the platform itself, not one site: no site id looks so."""


_ROLE_NAMES = ", ".join(role.value for role in Role)
_PACKAGE_NAMES = ", ".join(package.value for package in Package)


class BaseChange(BaseModel):
    """One write the reconciler will make on one site; subclasses add what it needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_of_action: ClassVar[Phase]
    capability: ClassVar[Capability]
    omitted_when_false: ClassVar[tuple[str, ...]] = ()
    site: str
    action: Action

    @model_validator(mode="before")
    @classmethod
    def _from_plan_json(cls, data: Any) -> Any:
        """A plan file nests the action's fields under ``details``; the model is flat."""
        if not isinstance(data, Mapping) or "details" not in data:
            return data
        details = data["details"]
        if not isinstance(details, Mapping):
            raise ValueError("details must be an object")
        outer = {key: value for key, value in data.items() if key != "details"}
        if clash := sorted(outer.keys() & details.keys()):
            raise ValueError(f"details may not repeat {', '.join(clash)}")
        return {**outer, **details}

    @model_serializer(mode="wrap")
    def _as_plan_json(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        fields = dict(handler(self))
        for flag in self.omitted_when_false:  # plans without the flag stay byte for byte
            if fields.get(flag) is False:
                del fields[flag]
        site, action = fields.pop("site"), fields.pop("action")
        return {"site": site, "action": action, "details": fields}

    @property
    def phase(self) -> Phase:
        return self.phase_of_action

    @property
    def subject(self) -> str:
        """Who the change is about; orders changes of the same phase."""
        return ""

    @property
    def is_handover(self) -> bool:
        return False

    @property
    def is_removal(self) -> bool:
        return False

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.site, self.phase, self.subject, self.action.value)


class _RoleField(BaseChange):
    capability = Capability.COLLABORATORS
    email: str
    role: Role

    @field_validator("role", mode="before")
    @classmethod
    def _known_role(cls, value: object) -> object:
        if value not in _ROLE_NAMES.split(", ") and not isinstance(value, Role):
            raise ValueError(f"{value!r} is not a role ({_ROLE_NAMES})")
        return value

    @property
    def subject(self) -> str:
        return self.email


class CollaboratorAdd(_RoleField):
    phase_of_action = Phase.GRANT
    action: Literal[Action.COLLABORATOR_ADD] = Action.COLLABORATOR_ADD


class CollaboratorUpdate(_RoleField):
    phase_of_action = Phase.GRANT
    action: Literal[Action.COLLABORATOR_UPDATE] = Action.COLLABORATOR_UPDATE
    previous_role: Role
    raises: bool

    @property
    def phase(self) -> Phase:
        """A raise is a grant; a lowering is a revocation, made last."""
        return Phase.GRANT if self.raises else Phase.REVOKE


class CollaboratorRemove(BaseChange):
    capability = Capability.COLLABORATORS
    phase_of_action = Phase.REVOKE
    action: Literal[Action.COLLABORATOR_REMOVE] = Action.COLLABORATOR_REMOVE
    email: str
    previous_role: Role
    make_room: bool = Field(
        default=False, description="Removed before the additions, which would not fit else"
    )
    omitted_when_false = ("make_room",)

    @property
    def phase(self) -> Phase:
        return Phase.MAKE_ROOM if self.make_room else Phase.REVOKE

    @property
    def subject(self) -> str:
        return self.email

    @property
    def is_removal(self) -> bool:
        return True


class BillingContactSet(BaseChange):
    capability = Capability.BILLING_CONTACT
    phase_of_action = Phase.BILLING
    action: Literal[Action.BILLING_CONTACT_SET] = Action.BILLING_CONTACT_SET
    email: str
    previous: str | None

    @property
    def subject(self) -> str:
        return self.email


class TransferStart(BaseChange):
    """A handover. Its last three fields are what the reviewer must know about money."""

    capability = Capability.TRANSFERS

    phase_of_action = Phase.TRANSFER_START
    action: Literal[Action.TRANSFER_START] = Action.TRANSFER_START
    to: str
    stay_as_collaborator: bool
    billing_contact_before: str | None
    package: Package
    package_paid_until: date | None

    @property
    def subject(self) -> str:
        return self.to

    @property
    def is_handover(self) -> bool:
        return True


class TransferCancel(BaseChange):
    capability = Capability.TRANSFERS
    phase_of_action = Phase.TRANSFER_CANCEL
    action: Literal[Action.TRANSFER_CANCEL] = Action.TRANSFER_CANCEL
    transfer_id: str
    to: str
    reason: str

    @property
    def subject(self) -> str:
        return self.to


class PackagePurchase(BaseChange):
    capability = Capability.PACKAGES
    phase_of_action = Phase.PURCHASE
    action: Literal[Action.PACKAGE_PURCHASE] = Action.PACKAGE_PURCHASE
    package: Package
    previous: Package
    raises_cap: bool = Field(
        default=False, description="Bought before the additions it makes room for"
    )
    feature_plan: bool = Field(
        default=False,
        description="A plan the expert sets, not a purchase: nobody is charged through the "
        "API (Duda's site plans, DESIGN.md section 9)",
    )
    omitted_when_false = ("raises_cap", "feature_plan")

    @property
    def phase(self) -> Phase:
        return Phase.RAISE_CAP if self.raises_cap else Phase.PURCHASE

    @field_validator("package", mode="before")
    @classmethod
    def _known_package(cls, value: object) -> object:
        if value not in _PACKAGE_NAMES.split(", ") and not isinstance(value, Package):
            raise ValueError(f"{value!r} is not a package ({_PACKAGE_NAMES})")
        return value


Change = Annotated[
    CollaboratorAdd
    | CollaboratorUpdate
    | CollaboratorRemove
    | BillingContactSet
    | TransferStart
    | TransferCancel
    | PackagePurchase,
    Field(discriminator="action"),
]
"""Any change of a plan: the classes above, told apart by ``action``."""


def change_from_json(data: Mapping[str, Any]) -> Change:
    """A change from its plan JSON (``{"site", "action", "details"}``) or its flat fields."""
    return _change_adapter().validate_python(data)


@cache
def _change_adapter() -> TypeAdapter[Change]:
    """Built on first use: a plan makes its changes by class and never needs it."""
    from pydantic import TypeAdapter

    return TypeAdapter[Change](Change)


def change_order(change: BaseChange) -> tuple[str, int, str, str]:
    """Sort key of a plan's changes: by site, then phase, then subject."""
    return change.sort_key()


class Note(BaseModel):
    """Something the plan reports but does not do: waiting, blocked, unmanaged, drift,
    warning, info. ``code`` (and ``data``) say what it is about, for scripts."""

    model_config = ConfigDict(frozen=True)

    site: str
    kind: NoteKind
    message: str
    code: NoteCode | None = None
    data: Mapping[str, str | int | bool | None] = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _without_empty(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """A note without a code serialises as before: site, kind, message."""
        fields = dict(handler(self))
        if fields.get("code") is None:
            fields.pop("code", None)
        if not fields.get("data"):
            fields.pop("data", None)
        return fields

    def sort_key(self) -> tuple[str, str, str]:
        return (self.site, self.kind.value, self.message)
