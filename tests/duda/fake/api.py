"""Duda's endpoints (DUDA_API.md): the route table and what each route answers.

A handler takes the call (path parameters, query, body) and answers ``(status, JSON value
or None)``; the server does the HTTP, authentication, rate limits and counting. The
variants the sources disagree on are read at each call, so a test may switch them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .models import (
    AccessibleSite,
    Account,
    AccountData,
    CreateAccountRequest,
    ErrorBody,
    GrantedPermissions,
    GrantRequest,
    Plan,
    Site,
    SiteLabel,
    SitePage,
)
from .state import SITE_DATE, DudaError, DudaState, EmptyGrant, FakeAccount, FakeSite
from .stats import Recorder

Answer = tuple[int, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Variants:
    """The versions of Duda's answers its sources disagree on (DUDA_API.md); the defaults
    are what Duda's documentation shows."""

    grant_shape: Literal["object", "list"] = "object"  # GET .../permissions: D / C's test
    names_shape: Literal["list", "object"] = "list"  # GET /accounts/permissions/...: D / O
    plan_key: Literal["planId", "planID"] = "planId"  # D and C's type / C's test
    empty_grant: EmptyGrant = "nothing"  # a grant with no permissions: current / older docs
    ungranted_read: Literal["error", "empty"] = "error"  # not documented either way


@dataclass(frozen=True)
class Call:
    params: dict[str, str]
    query: dict[str, list[str]]
    body: bytes


Handler = Callable[["DudaApi", Call], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]  # literal segments, and "{name}" for a parameter
    handler: Handler

    @property
    def name(self) -> str:
        return f"{self.method} /{'/'.join(self.pattern)}"

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for expected, segment in zip(self.pattern, segments, strict=True):
            if expected.startswith("{"):
                params[expected.strip("{}")] = segment
            elif expected != segment:
                return None
        return params


class DudaApi:
    """The answers, over one ``DudaState``."""

    def __init__(
        self,
        state: DudaState,
        variants: Callable[[], Variants],
        recorder: Recorder,
        max_page: int,
    ) -> None:
        self.state = state
        self.variants = variants
        self.recorder = recorder
        self.max_page = max_page

    def find(self, method: str, segments: Sequence[str]) -> tuple[Route | None, dict[str, str]]:
        """The route for the call, or None; a path that exists under another method is
        reported as that route with no parameters, so the server can answer 405."""
        other: Route | None = None
        for route in ROUTES:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == method:
                return route, params
            other = other or route
        return other, {}

    def answer(self, route: Route, call: Call) -> Answer:
        try:
            return route.handler(self, call)
        except DudaError as error:
            return 400, _dump(ErrorBody(error_code=error.code, message=error.message))

    # --- sites ---------------------------------------------------------------------------

    def list_sites(self, call: Call) -> Answer:
        offset = _int_query(call, "offset", 0)
        limit = min(_int_query(call, "limit", self.max_page), self.max_page)
        sites, total = self.state.list_sites(offset, limit)
        page = SitePage(
            offset=offset, limit=limit, total_responses=total, results=[_site(s) for s in sites]
        )
        return 200, _dump(page)

    def get_site(self, call: Call) -> Answer:
        return 200, _dump(_site(self.state.get_site(call.params["site"])))

    # --- accounts ------------------------------------------------------------------------

    def create_account(self, call: Call) -> Answer:
        self.state.create_account(_body(call, CreateAccountRequest))
        return 204, None

    def get_account(self, call: Call) -> Answer:
        return 200, _dump(_account(self.state.get_account(call.params["account"])))

    def delete_account(self, call: Call) -> Answer:
        self.state.delete_account(call.params["account"])
        return 204, None

    # --- permissions ---------------------------------------------------------------------

    def permission_names(self, call: Call) -> Answer:
        names = list(self.state.permission_names)
        return 200, names if self.variants().names_shape == "list" else {"permissions": names}

    def get_permissions(self, call: Call) -> Answer:
        account, site = call.params["account"], call.params["site"]
        try:
            granted = list(self.state.permissions_of(account, site))
        except DudaError as error:
            if error.code != "ResourceNotExist" or self.variants().ungranted_read == "error":
                raise
            self.state.get_account(account)  # an unknown account or site is still an error
            self.state.get_site(site)
            granted = []
        if self.variants().grant_shape == "list":
            return 200, granted
        return 200, _dump(GrantedPermissions(permissions=granted))

    def grant(self, call: Call) -> Answer:
        request = _body(call, GrantRequest) if call.body.strip() else GrantRequest()
        if not request.permissions:
            self.recorder.empty_grant()
        self.state.set_permissions(
            call.params["account"],
            call.params["site"],
            request.permissions,
            empty_grant=self.variants().empty_grant,
        )
        return 204, None

    def remove_grant(self, call: Call) -> Answer:
        self.state.remove_permissions(call.params["account"], call.params["site"])
        return 204, None

    def accessible_sites(self, call: Call) -> Answer:
        sites = self.state.sites_of(call.params["account"])
        return 200, [_dump(AccessibleSite(site_name=site)) for site in sites]

    # --- plans ---------------------------------------------------------------------------

    def list_plans(self, call: Call) -> Answer:
        plans = sorted(self.state.plans.items())
        return 200, [self._plan(plan_id, name) for plan_id, name in plans]

    def get_plan(self, call: Call) -> Answer:
        return 200, self._plan(*self.state.plan_of(call.params["site"]))

    def set_plan(self, call: Call) -> Answer:
        plan_id = _int(call.params["plan"], "plan_id")
        return 200, self._plan(*self.state.set_plan(call.params["site"], plan_id))

    def _plan(self, plan_id: int, name: str) -> dict[str, Any]:
        body = _dump(Plan(plan_id=plan_id, plan_name=name))
        if self.variants().plan_key == "planID":
            body = {"planID" if key == "planId" else key: value for key, value in body.items()}
        return body


ROUTES = (
    # Literal paths come before the parameter paths they would otherwise match.
    Route("GET", ("sites", "multiscreen"), DudaApi.list_sites),
    Route("GET", ("sites", "multiscreen", "plans"), DudaApi.list_plans),
    Route("GET", ("sites", "multiscreen", "{site}"), DudaApi.get_site),
    Route("GET", ("sites", "multiscreen", "{site}", "plan"), DudaApi.get_plan),
    Route("POST", ("sites", "multiscreen", "{site}", "plan", "{plan}"), DudaApi.set_plan),
    Route("POST", ("accounts", "create"), DudaApi.create_account),
    Route("GET", ("accounts", "permissions", "multiscreen"), DudaApi.permission_names),
    Route(
        "GET",
        ("accounts", "grant-access", "{account}", "sites", "multiscreen"),
        DudaApi.accessible_sites,
    ),
    Route("GET", ("accounts", "{account}"), DudaApi.get_account),
    Route("DELETE", ("accounts", "{account}"), DudaApi.delete_account),
    Route(
        "GET", ("accounts", "{account}", "sites", "{site}", "permissions"), DudaApi.get_permissions
    ),
    Route("POST", ("accounts", "{account}", "sites", "{site}", "permissions"), DudaApi.grant),
    Route(
        "DELETE", ("accounts", "{account}", "sites", "{site}", "permissions"), DudaApi.remove_grant
    ),
)


# --- helpers -----------------------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True)


def _site(site: FakeSite) -> Site:
    return Site(
        site_name=site.name,
        account_name=site.owner,
        site_domain=site.domain,
        site_default_domain=f"{site.name}.multiscreensite.com",
        external_uid=site.external_uid,
        publish_status="PUBLISHED",
        creation_date=SITE_DATE,
        modification_date=SITE_DATE,
        labels=[SiteLabel(name=label) for label in site.labels] or None,
    )


def _account(account: FakeAccount) -> Account:
    company = AccountData(company_name=account.company_name) if account.company_name else None
    return Account(
        account_name=account.name,
        first_name=account.first_name,
        last_name=account.last_name,
        lang=account.lang,
        email=account.email,
        accountData=company,
        account_type=account.account_type,
    )


def _body(call: Call, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(json.loads(call.body or b"null"))
    except (ValueError, ValidationError) as error:
        raise DudaError("InvalidInput", _first_problem(error)) from None


def _first_problem(error: ValueError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        return f"{where}: {problem['msg']}"
    return f"The request body is not valid JSON: {error}"


def _int_query(call: Call, name: str, default: int) -> int:
    values = call.query.get(name)
    return _int(values[-1], name) if values else default


def _int(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise DudaError("InvalidInput", f"{name} must be a number, not '{text}'") from None
    if value < 0:
        raise DudaError("InvalidInput", f"{name} must not be negative ({value})")
    return value
