"""Unit tests of the operations: each runs on the in-memory platform
(``reconciler.sandbox.memory.MemorySandbox``, passed as ``platform=``), the sandbox's own
store and rules with the real client and no socket. The CLI's ``import`` and ``fmt``
are tested end to end, over HTTP, in tests/e2e/test_e2e_import.py."""
