"""Site-ownership reconciler: site files in git, plans and applies against the platform."""

__version__ = "0.1.0"

from reconciler import pydantic_plugins as _pydantic_plugins

_pydantic_plugins.install()  # before any model is built: see the module
