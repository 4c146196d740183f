"""A local implementation of the platform API: the SQLite store and its rules, served
by FastAPI and uvicorn (``reconciler sandbox serve``, the tests) or by the standard
library's HTTP server (``plain``: the embedded sandbox of ``plan`` and ``apply``).

Import the modules themselves (``sandbox.server``, ``sandbox.store``): this package
imports nothing, so that commands that never start a sandbox do not pay for FastAPI.
"""
