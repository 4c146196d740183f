"""reconciler.yaml for every command, read in one place and reported one way.

Its problems, the ``platform`` block's included (checked by the platform kind's factory,
DESIGN.md section 4), are :class:`~reconciler.desired.problems.Problem` s at file:line,
as ``validate`` prints them; a command that needs a valid configuration raises
``ValidationFailed`` with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.desired.config import Config
from reconciler.desired.loader import read_configuration
from reconciler.desired.problems import Problem, ValidationFailed, errors_in
from reconciler.platform.kinds import (
    PlatformBlock,
    PlatformConfigError,
    SecretMissing,
    UnknownKind,
    create_platform,
)

if TYPE_CHECKING:  # made by a kind's factory; `validate` needs none of the platform's modules
    from reconciler.platform.base import Platform


def inspect_config(root: Path) -> tuple[Config | None, list[Problem]]:
    """reconciler.yaml and every problem of it; the configuration is None when it has
    errors. The environment is not read: validate checks the files alone."""
    read = read_configuration(root)
    problems = [*read.problems, *platform_problems(read.platform)]
    return (None if errors_in(problems) else read.config), problems


def load_config(root: Path) -> Config:
    """reconciler.yaml, valid; ``ValidationFailed`` with its problems otherwise."""
    config, problems = inspect_config(root)
    if config is None:
        raise ValidationFailed(problems)
    return config


def platform_problems(block: PlatformBlock | None) -> list[Problem]:
    """What the kind's factory finds wrong with the block, at file:line (none without
    a block: the embedded sandbox).

    It is called with an empty environment: a token that is not set here is no problem
    of the files (a command that needs it says so).
    """
    if block is None:
        return []
    try:
        create_platform(block, {}).close()
    except UnknownKind as exc:
        return [Problem(location=block.value_at("kind"), message=f"platform.kind: {exc.message}")]
    except PlatformConfigError as exc:
        return [Problem(location=found.location, message=found.message) for found in exc.problems]
    except SecretMissing:
        pass
    return []


def configured_platform(config: Config, environ: Mapping[str, str]) -> Platform:
    """The platform reconciler.yaml names, made by its kind's factory (not contacted yet).

    ``config`` was checked by :func:`load_config`; what is left to fail is the
    environment (``SecretMissing``, a ``ConfigError``).
    """
    assert config.platform is not None
    try:
        return create_platform(config.platform, environ)
    except PlatformConfigError as exc:  # a factory that reads the environment for more
        raise ValidationFailed(
            Problem(location=found.location, message=found.message) for found in exc.problems
        ) from None
