"""Problems found in the user's files: each with a place and a message a human can act on."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from reconciler.errors import ReconcilerError
from reconciler.model import Location


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    location: Location
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message)


def sorted_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=Problem.sort_key))


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


class ValidationFailed(ReconcilerError):
    """The files have errors; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted_problems(problems)
        errors = errors_in(self.problems)
        files = {p.location.file for p in errors}
        super().__init__(
            f"{len(errors)} error{'s' if len(errors) != 1 else ''} in "
            f"{len(files)} file{'s' if len(files) != 1 else ''}; "
            f"fix {'them' if len(errors) != 1 else 'it'} and run `reconciler validate` again"
        )
