"""Site-ownership reconciler: site files in git, plans and applies against the platform."""

__version__ = "0.1.0"
