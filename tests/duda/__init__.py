"""Duda's Partner API for tests: a stateful fake (``duda.fake``), replays of the
documentation's example bodies (``duda.replay``) and a contract suite that runs against
the fake or, when a person asks for it, against Duda's sandbox host (README.md)."""
