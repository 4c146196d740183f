"""A local implementation of the platform API: the SQLite store and its rules
(``store``), the routes written once (``routes``: a table that ``api`` answers by and
``openapi`` describes), and one HTTP front on the standard library (``server``) for the
embedded sandbox of ``plan`` and ``apply``, ``reconciler sandbox serve`` and the tests.

Import the modules themselves (``sandbox.server``, ``sandbox.store``): this package
imports nothing, so that commands that never start a sandbox do not pay for it.
"""
