"""``validate``: the site files checked alone, with no platform."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.loader import inspect_repository
from reconciler.desired.problems import Problem, errors_in, sorted_problems
from reconciler.operations.configuration import platform_problems


@dataclass(frozen=True)
class Validation:
    """Every problem of every file, sorted by file and line, and how many sites were read."""

    problems: tuple[Problem, ...]
    site_count: int
    config_ok: bool

    @property
    def ok(self) -> bool:
        return self.config_ok and not errors_in(self.problems)


@dataclass(frozen=True)
class ValidateOperation:
    root: Path

    def run(self) -> Validation:
        outcome = inspect_repository(self.root)
        platform = platform_problems(outcome.platform)
        return Validation(
            problems=sorted_problems([*outcome.problems, *platform]),
            site_count=len(outcome.sites),
            config_ok=outcome.config is not None and not errors_in(platform),
        )
