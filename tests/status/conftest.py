"""Fixtures of the status tests; the portfolio itself is built in ``status_support``."""

from __future__ import annotations

import pytest
from status_support import Portfolio, build_portfolio


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Portfolio:
    """A repository and its embedded sandbox with every kind of site (see status_support).

    Shared by the tests of a module, which only read it: status never writes.
    """
    return build_portfolio(tmp_path_factory.mktemp("portfolio"))
