"""Small repositories in a temporary folder, and `reconciler validate` run on them.

Test modules import ``desired_support``, never ``conftest``: every test folder has a
``conftest`` module, and which one ``import conftest`` finds depends on what pytest
collected first.
"""

from __future__ import annotations

from support.repo import EXPERT, Repo, Result

__all__ = ["CONFIG", "EXPERT", "PEOPLE", "Repo", "Result"]

CONFIG = f"expert: {EXPERT}\n"
PEOPLE = """\
tom:
  email: tom@freelance.example
  name: Tom Freelance
anna:
  email: Anna@Acme-Bakery.example
"""
