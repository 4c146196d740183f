"""Errors meant for a human. The CLI prints their message and exits non-zero.

::

    ReconcilerError
    ├── ConfigError          reconciler.yaml, the environment or the repository is unusable
    ├── ValidationFailed     the site files have problems (carries every problem found)
    ├── PlanRefused          a policy limit or a stale plan stops the run
    └── PlatformError        see reconciler.platform.errors
"""

from __future__ import annotations


class ReconcilerError(Exception):
    """Base of every error a user can cause or fix; never shown with a traceback."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ReconcilerError):
    """The configuration, the environment or the repository cannot be used."""


class PlanRefused(ReconcilerError):
    """A plan breaks a policy limit, or a saved plan no longer matches the platform."""
