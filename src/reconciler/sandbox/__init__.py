"""A local implementation of the platform API: SQLite store, FastAPI app, uvicorn server.

Import the modules themselves (``sandbox.server``, ``sandbox.store``): this package
imports nothing, so that commands that never start a sandbox do not pay for FastAPI.
"""
