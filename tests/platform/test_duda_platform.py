"""The ``duda`` platform (DESIGN.md section 9) against the fake of Duda's API over real
HTTP on 127.0.0.1, on a virtual clock: what it reads, what it writes, how it behaves."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from duda_support import Faults, faulty_proxy, interest, make_platform
from platform_support import ManualDeadlines

from duda.fake import DudaFake, Variants
from reconciler.model import Package, Role
from reconciler.platform.base import Capability
from reconciler.platform.errors import ServerError, TransportError, Unauthorized
from support.clock import VirtualTime
from support.repo import EXPERT

EDITOR = ["EDIT", "LIMITED_EDITING", "PUBLISH", "REPUBLISH", "SEO", "BLOG", "BACKUPS"]
EDITOR += ["CONTENT_LIBRARY"]
GRANTS = "GET /accounts/{account}/sites/{site}/permissions"
LOOKUPS = "GET /accounts/grant-access/{account}/sites/multiscreen"
POST_GRANT = "POST /accounts/{account}/sites/{site}/permissions"
DELETE_GRANT = "DELETE /accounts/{account}/sites/{site}/permissions"


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def fake(time: VirtualTime) -> Iterator[DudaFake]:
    with DudaFake(clock=time.monotonic) as fake:
        fake.state.add_plan(1, "FREE")
        fake.state.add_plan(2, "PREMIUM")
        fake.state.add_plan(3, "BUSINESS")
        fake.state.add_sites(f"site-{n:03}" for n in range(250))
        yield fake


def test_the_listing_reads_every_page_and_each_named_address_and_grant_once(
    fake: DudaFake, time: VirtualTime
) -> None:
    fake.state.grant("ann@acme.example", "site-001", ["STATS_TAB"])
    fake.state.grant("ann@acme.example", "site-230", EDITOR)  # on the third page
    fake.state.grant("tom@freelance.example", "site-120", ["STATS_TAB", *EDITOR])
    fake.state.grant("zoe@nowhere.example", "site-002", EDITOR)  # named nowhere
    platform = make_platform(fake.url, fake, time)
    platform.attend(interest("ann@acme.example", "tom@freelance.example", "new@client.example"))

    sites = {site.id: site for site in platform.sites()}

    assert len(sites) == 250
    assert sites["site-001"].collaborators == {"ann@acme.example": Role.VIEWER}
    assert sites["site-230"].collaborators == {"ann@acme.example": Role.EDITOR}
    assert sites["site-120"].collaborators == {"tom@freelance.example": Role.EDITOR}
    assert sites["site-002"].collaborators == {}  # invisible: nobody named her
    assert {site.owner for site in sites.values()} == {EXPERT}
    assert {site.billing_contact for site in sites.values()} == {EXPERT}
    stats = fake.stats()
    assert stats.count("GET /sites/multiscreen") == math.ceil(250 / 100)
    assert stats.count(LOOKUPS) == 3
    assert stats.count(GRANTS) == 3
    assert stats.count("GET /accounts/permissions/multiscreen") == 1  # admin: all
    assert stats.total == 3 + 3 + 3 + 1
    assert stats.rate_limited == 0


def test_a_set_read_back_is_the_highest_role_it_contains_and_any_other_set_is_left_alone(
    fake: DudaFake, time: VirtualTime
) -> None:
    fake.state.grant("a@x.example", "site-001", ["STATS_TAB", "EDIT"])  # viewer's and more
    fake.state.grant("b@x.example", "site-001", [*EDITOR, "DEV_MODE"])
    fake.state.grant("c@x.example", "site-001", list(fake.state.permission_names))
    fake.state.grant("d@x.example", "site-001", ["SEO", "BLOG"])  # no role's set
    platform = make_platform(fake.url, fake, time)
    platform.attend(interest("a@x.example", "b@x.example", "c@x.example", "d@x.example"))

    site = next(site for site in platform.sites() if site.id == "site-001")

    assert site.collaborators == {
        "a@x.example": Role.VIEWER,
        "b@x.example": Role.EDITOR,
        "c@x.example": Role.ADMIN,
    }
    assert site.unmapped_access == {"d@x.example": "BLOG, SEO"}


@pytest.mark.parametrize(
    "variants",
    [
        Variants(grant_shape="list"),
        Variants(names_shape="object"),
        Variants(plan_key="planID"),
        Variants(ungranted_read="empty"),
    ],
    ids=["bare-grant-list", "names-object", "planID", "ungranted-empty"],
)
def test_either_shape_where_dudas_sources_disagree_reads_the_same(
    fake: DudaFake, time: VirtualTime, variants: Variants
) -> None:
    fake.variants = variants
    fake.state.grant("a@x.example", "site-001", list(fake.state.permission_names))
    fake.state.set_plan("site-001", 2)
    platform = make_platform(fake.url, fake, time, plans={"free": 1, "premium": 2})
    platform.attend(interest("a@x.example", packages=("site-001",)))

    site = next(site for site in platform.sites() if site.id == "site-001")
    platform.delete_collaborator("site-003", "a@x.example", if_match=None, idempotency_key="k")

    assert site.collaborators == {"a@x.example": Role.ADMIN}
    assert (site.package, site.package_known) == (Package.PREMIUM, True)
    assert fake.stats().count(DELETE_GRANT) == 0  # nothing granted there, nothing removed


def test_plans_are_read_only_for_sites_whose_file_manages_the_package(
    fake: DudaFake, time: VirtualTime
) -> None:
    fake.state.set_plan("site-004", 3)  # a plan that plans: does not map
    platform = make_platform(fake.url, fake, time, plans={"free": 1, "premium": 2})
    platform.attend(interest(packages=("site-003", "site-004")))

    sites = {site.id: site for site in platform.sites()}

    assert fake.stats().count("GET /sites/multiscreen/{site}/plan") == 2
    assert (sites["site-003"].package, sites["site-003"].package_known) == (Package.FREE, True)
    assert sites["site-004"].package_known is False
    assert sites["site-005"].package_known is False  # not read
    assert Capability.PACKAGES in platform.capabilities


def test_without_plans_packages_are_no_write_of_this_platform(
    fake: DudaFake, time: VirtualTime
) -> None:
    platform = make_platform(fake.url, fake, time)
    platform.attend(interest(packages=("site-003",)))

    list(platform.sites())

    assert fake.stats().count("GET /sites/multiscreen/{site}/plan") == 0
    assert Capability.PACKAGES not in platform.capabilities
    assert "plans:" in platform.traits.by_hand[Capability.PACKAGES]


def test_a_grant_creates_a_missing_customer_account_then_overwrites_the_set(
    fake: DudaFake, time: VirtualTime
) -> None:
    platform = make_platform(fake.url, fake, time)
    platform.attend(interest("new@client.example"))
    list(platform.sites())
    fake.reset_stats()

    platform.put_collaborator(
        "site-010", "new@client.example", Role.EDITOR, if_match=None, idempotency_key="k"
    )
    platform.put_collaborator(
        "site-010", "new@client.example", Role.VIEWER, if_match=None, idempotency_key="k"
    )

    account = fake.state.accounts["new@client.example"]
    assert account.account_type == "CUSTOMER"
    assert fake.state.granted("new@client.example", "site-010") == ("STATS_TAB",)
    stats = fake.stats()
    assert stats.count("POST /accounts/create") == 1
    assert stats.count(POST_GRANT) == 2  # the second overwrote the first
    assert stats.empty_grants == 0


def test_each_write_re_reads_first_and_a_second_run_writes_nothing(
    fake: DudaFake, time: VirtualTime
) -> None:
    fake.state.grant("ann@acme.example", "site-001", ["STATS_TAB"])
    fake.state.grant("ann@acme.example", "site-002", EDITOR)
    platform = make_platform(fake.url, fake, time, plans={"free": 1, "premium": 2})
    platform.attend(interest("ann@acme.example"))
    list(platform.sites())
    fake.reset_stats()

    for _ in range(2):
        platform.put_collaborator(
            "site-001", "ann@acme.example", Role.EDITOR, if_match=None, idempotency_key="k"
        )
        platform.delete_collaborator(
            "site-002", "ann@acme.example", if_match=None, idempotency_key="k"
        )
        platform.purchase("site-003", Package.PREMIUM, if_match=None, idempotency_key="k")

    stats = fake.stats()
    assert stats.count(POST_GRANT) == 1
    assert stats.count(DELETE_GRANT) == 1
    assert stats.count("POST /sites/multiscreen/{site}/plan/{plan}") == 1
    assert stats.total == 3 * 2 + 3  # a re-read before each write, and the writes once
    assert fake.state.granted("ann@acme.example", "site-001") == tuple(
        name for name in fake.state.permission_names if name in EDITOR
    )
    assert fake.state.granted("ann@acme.example", "site-002") is None
    assert "ann@acme.example" in fake.state.accounts  # the account stays
    assert fake.state.site_plan("site-003") == 2
    assert stats.empty_grants == 0


def test_reads_paced_at_the_rate_limit_meet_no_429(fake: DudaFake, time: VirtualTime) -> None:
    addresses = [f"p{n}@x.example" for n in range(60)]
    for n, address in enumerate(addresses):
        fake.state.grant(address, f"site-{n:03}", ["STATS_TAB"])
    platform = make_platform(fake.url, fake, time, readers=1, rate_limit=10)
    platform.attend(interest(*addresses))

    list(platform.sites())

    assert fake.stats().total == 3 + 1 + 60 + 60
    assert fake.stats().rate_limited == 0


def test_eight_readers_at_the_hard_limit_get_every_answer(
    fake: DudaFake, time: VirtualTime
) -> None:
    addresses = [f"p{n}@x.example" for n in range(60)]
    for n, address in enumerate(addresses):
        fake.state.grant(address, f"site-{n:03}", ["STATS_TAB"])
    platform = make_platform(fake.url, fake, time, rate_limit=10)  # eight threads at once
    platform.attend(interest(*addresses))

    sites = {site.id: site for site in platform.sites()}

    assert all(sites[f"site-{n:03}"].collaborators for n in range(60))
    stats = fake.stats()
    assert stats.count(LOOKUPS, 200) == 60
    assert stats.count(GRANTS, 200) == 60


def test_a_limit_below_the_pace_slows_the_client_down_instead_of_failing(
    time: VirtualTime,
) -> None:
    with DudaFake(clock=time.monotonic, rate_limit=1) as fake:
        fake.state.add_sites(f"site-{n:03}" for n in range(5))
        platform = make_platform(fake.url, fake, time, rate_limit=10)
        platform.attend(interest(*(f"p{n}@x.example" for n in range(40))))
        fake.reset_stats()

        sites = list(platform.sites())  # backoff doubles until the limit lets it through

    assert len(sites) == 5
    assert fake.stats().count(LOOKUPS, 400) == 40  # no such accounts: ResourceNotExist
    assert fake.stats().rate_limited > 0


def test_server_errors_and_lost_answers_are_retried_and_writes_stay_single(
    fake: DudaFake, time: VirtualTime
) -> None:
    fake.state.grant("ann@acme.example", "site-002", EDITOR)
    drops = Faults("drop", lambda method, path: method != "GET", times=3)
    with faulty_proxy(fake.root, drops) as url:
        platform = make_platform(url, fake, time)
        platform.attend(interest("ann@acme.example", "new@client.example"))
        list(platform.sites())
        platform.put_collaborator(
            "site-001", "new@client.example", Role.VIEWER, if_match=None, idempotency_key="k"
        )
        platform.delete_collaborator(
            "site-002", "ann@acme.example", if_match=None, idempotency_key="k"
        )
    failures = Faults("503", lambda method, path: True, times=4)
    with faulty_proxy(fake.root, failures) as url:
        platform = make_platform(url, fake, time)
        platform.attend(interest("ann@acme.example", "new@client.example"))
        sites = {site.id: site for site in platform.sites()}

    assert drops.injected == 3  # the account's creation, the grant, the removal
    assert fake.state.accounts["new@client.example"].account_type == "CUSTOMER"
    assert fake.state.granted("new@client.example", "site-001") == ("STATS_TAB",)
    assert fake.state.granted("ann@acme.example", "site-002") is None
    assert failures.injected == 4
    assert sites["site-001"].collaborators == {"new@client.example": Role.VIEWER}
    assert fake.stats().count("POST /accounts/create", 204) == 1


def test_wrong_credentials_name_the_variables_and_never_the_values(
    fake: DudaFake, time: VirtualTime
) -> None:
    platform = make_platform(fake.url, fake, time)
    platform._password = "not-the-password-4711"
    platform.attend(interest("ann@acme.example"))

    with pytest.raises(Unauthorized) as raised:
        list(platform.sites())

    message = raised.value.message
    assert "DUDA_API_USER and DUDA_API_PASS" in message
    assert "401" in message
    assert "not-the-password-4711" not in message
    assert fake.user not in message
    assert fake.stats().count("GET /sites/multiscreen") == 1  # no retry of a 401


def test_an_answer_that_never_completes_meets_the_deadline_and_the_same_budget(
    fake: DudaFake, time: VirtualTime
) -> None:
    deadlines = ManualDeadlines()
    listing = "/api/sites/multiscreen"
    hangs = Faults(
        "hang", lambda method, path: path == listing, times=10, on_hang=deadlines.expire_current
    )
    with faulty_proxy(fake.root, hangs) as url:
        platform = make_platform(url, fake, time, readers=1, deadline_timer=deadlines)
        platform.attend(interest())

        with pytest.raises(TransportError) as raised:
            list(platform.sites())

    assert raised.value.message == (
        f"GET /sites/multiscreen: no complete answer from {url} within the deadline of 60 s; "
        "gave up after 2 attempts"
    )
    assert hangs.injected == 2  # MAX_LATE_ATTEMPTS, as the reconciler kind's client
    assert set(deadlines.armed) == {60.0}


def test_server_errors_that_persist_end_after_the_retry_budget(
    fake: DudaFake, time: VirtualTime
) -> None:
    failing = Faults("503", lambda method, path: path == "/api/sites/multiscreen", times=100)
    with faulty_proxy(fake.root, failing) as url:
        platform = make_platform(url, fake, time, readers=1)
        platform.attend(interest())

        with pytest.raises(ServerError) as raised:
            list(platform.sites())

    assert raised.value.message.endswith("; gave up after 5 attempts")
    assert failing.injected == 5
    assert fake.stats().count("GET /sites/multiscreen") == 0
