"""Plan files: ``plan --out FILE`` saves one, ``apply FILE`` and ``show FILE`` load it.

The plan is the domain's value (``reconcile/plan.py``); reading and writing its file is
I/O, done here. A plan file is a path the user names: it is size-limited before it is
parsed, and each way it can be wrong is said in the plan file's own terms.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from reconciler.desired.reading import PLAN_LIMIT, FileRefused, NotUtf8, read_text
from reconciler.errors import PlanRefused
from reconciler.operations.output import write_output
from reconciler.reconcile.changes import Action
from reconciler.reconcile.plan import FORMAT_VERSION, Plan


def save_plan(plan: Plan, path: Path) -> None:
    """``plan --out FILE``: the plan as JSON, for ``apply FILE``."""
    write_output(path, plan.to_json())


def load_plan(path: Path) -> Plan:
    """The plan saved in ``path``, a file the user named: size-limited before parsing."""
    try:
        text = read_text(path, str(path), PLAN_LIMIT)
    except NotUtf8:
        raise PlanRefused(
            f"{path} is not a plan file written by `reconciler plan --out` (not UTF-8 text)"
        ) from None
    except FileRefused as exc:
        if exc.reason.startswith("cannot be read: "):
            reason = exc.reason.removeprefix("cannot be read: ")
            raise PlanRefused(f"cannot read the plan file {path}: {reason}") from None
        raise PlanRefused(exc.message) from None
    _check_format_version(path, _format_version_of(path, text))
    try:
        plan = Plan.model_validate_json(text)
    except ValidationError as exc:
        raise PlanRefused(
            f"{path} is not a plan file written by `reconciler plan --out` ({_first_problem(exc)})"
        ) from None
    _check_format_version(path, plan.format_version)
    return plan


_ACTIONS = ", ".join(f"'{action.value}'" for action in Action)


def _first_problem(exc: ValidationError) -> str:
    """The first problem of a plan file, said in the plan file's own terms."""
    first = exc.errors(include_url=False)[0]
    loc = [str(part) for part in first["loc"]]
    if first["type"] == "union_tag_invalid":
        return f"{'.'.join([*loc, 'action'])}: Input should be one of {_ACTIONS}"
    if loc[:1] == ["changes"] and len(loc) > 2 and loc[2] in _ACTION_NAMES:
        action = loc.pop(2)  # the discriminator's tag, not a key of the file
        if first["type"] == "missing" and len(loc) == 3:
            return f"{'.'.join(loc[:2])}: {action} needs {loc[2]} in its details"
    return f"{'.'.join(loc) or 'the file'}: {first['msg']}"


_ACTION_NAMES = frozenset(action.value for action in Action)


def _format_version_of(path: Path, text: str) -> object:
    """The format version a plan file declares, read before the rest of it is checked."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    except RecursionError:  # a plan nests four levels; 100,000 ``[`` are not a plan
        raise PlanRefused(
            f"{path} is not a plan file written by `reconciler plan --out` (it nests too deeply)"
        ) from None
    return data.get("format_version") if isinstance(data, dict) else None


def _check_format_version(path: Path, version: object) -> None:
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise PlanRefused(
            f"{path} has plan format {version}; this reconciler reads "
            f"format {FORMAT_VERSION}: make the plan again with this version"
        )
