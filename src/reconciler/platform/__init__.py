"""The platform API: ``schema`` (wire models), ``errors`` (typed errors) and ``client``.

Nothing is imported here, so that importing ``reconciler.platform.schema`` or
``reconciler.platform.errors`` never pulls in ``requests`` (see the import contracts).
"""
