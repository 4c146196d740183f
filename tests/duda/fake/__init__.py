"""A stateful fake of Duda's Partner API for tests and benchmarks (README.md, DUDA_API.md).

    from duda.fake import DudaFake, ManualClock, Variants

    clock = ManualClock()
    with DudaFake(clock=clock, variants=Variants(grant_shape="list")) as fake:
        fake.state.add_plan(1, "FREE")
        fake.state.add_sites(["acme-bakery", "bolt-gym"])
        fake.state.grant("ann@example.com", "acme-bakery", ["STATS_TAB"])
        ...  # the client under test talks to fake.url with (fake.user, fake.password)
        assert fake.stats().rate_limited == 0

Written from Duda's documentation and typed client only: it shares no code or schema
with the adapter it tests.
"""

from .api import Variants
from .limits import Clock, ManualClock
from .models import DOCUMENTED_PERMISSIONS
from .seed import Seed, SeedError, load_seed
from .server import FAKE_PASSWORD, FAKE_USER, DudaFake
from .state import DudaState
from .stats import FakeStats

__all__ = [
    "DOCUMENTED_PERMISSIONS",
    "FAKE_PASSWORD",
    "FAKE_USER",
    "Clock",
    "DudaFake",
    "DudaState",
    "FakeStats",
    "ManualClock",
    "Seed",
    "SeedError",
    "Variants",
    "load_seed",
]
