"""The fake's own request and response models, written from Duda's documentation.

Each model names the source it was written from (keys as in DUDA_API.md: D = Duda's
documentation repository, C = Duda's typed client). Nothing here is shared with our
adapter: if the adapter and this file disagree, one of them misread Duda, and the contract
suite (which speaks raw HTTP) is where that shows.

Requests are strict (an unknown field is InvalidInput), so a misspelt field in a client
fails loudly here; Duda itself may be more lenient. Responses accept extra fields, so the
documentation's full example bodies (fixtures/) validate against them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

ErrorCode = Literal[
    "ResourceNotExist",  # D README, R docs/overview: an unknown site, account, ...
    "InvalidInput",  # D README, R docs/overview
    "InternalError",  # R docs/overview, O _intro.md
    "ResourceAlreadyExist",  # O: Create Account of a name that exists
    "AccessForbidden",  # O: Grant / Get / Remove site access
]

AccountType = Literal["CUSTOMER", "STAFF"]

DOCUMENTED_PERMISSIONS = (
    # D client-permissions.md, "Client Permission Object", in its order.
    "STATS_TAB",
    "EDIT",
    "ADD_FLEX",
    "E_COMMERCE",
    "PUBLISH",
    "REPUBLISH",
    "DEV_MODE",
    "INSITE",
    "SEO",
    "BACKUPS",
    "CUSTOM_DOMAIN",
    "RESET",
    "BLOG",
    "PUSH_NOTIFICATIONS",
    "LIMITED_EDITING",
    "SITE_COMMENTS",
    "CONTENT_LIBRARY",
    "EDIT_CONNECTED_DATA",
    "MANAGE_CONNECTED_DATA",
    "USE_APP",
    "CLIENT_MANAGE_FREE_APPS",
    "AI_ASSISTANT",
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


# --- requests --------------------------------------------------------------------------


class CreateAccountRequest(_Request):
    """``POST /accounts/create`` (D accounts.md "Create Account", C Accounts.ts create)."""

    account_name: str = Field(min_length=1)
    first_name: str | None = None
    last_name: str | None = None
    lang: str | None = None
    email: str | None = None
    company_name: str | None = None
    account_type: AccountType = "CUSTOMER"  # O: "Accounts created are defaulted to customer"


class GrantRequest(_Request):
    """``POST /accounts/{a}/sites/{s}/permissions`` (D "Grant Site Access"): the set to
    overwrite with. Missing or empty is the case the sources disagree on (Variants)."""

    permissions: list[str] | None = None


# --- responses -------------------------------------------------------------------------


class ErrorBody(_Response):
    """Every 400 (D README "Error"): ``{"error_code": ..., "message": ...}``."""

    error_code: ErrorCode
    message: str


class AccountData(_Response):
    company_name: str | None = None


class Account(_Response):
    """``GET /accounts/{a}`` (D accounts.md "Get Account", C GetAccountResponse)."""

    account_name: str
    first_name: str | None = None
    last_name: str | None = None
    lang: str | None = None
    email: str | None = None
    accountData: AccountData | None = None  # camel case: Duda spells it so (D)
    account_type: AccountType | None = None


class SiteLabel(_Response):
    name: str


class Site(_Response):
    """``GET /sites/multiscreen/{s}`` and each listed site (D sites.md "Get Site", C
    GetSiteResponse: only ``site_name`` is required)."""

    site_name: str
    account_name: str | None = None  # D Site Object: the owner
    site_domain: str | None = None
    site_default_domain: str | None = None
    external_uid: str | None = None
    publish_status: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    labels: list[SiteLabel] | None = None


class SitePage(_Response):
    """``GET /sites/multiscreen?offset&limit`` (C ListSiteResponse, C site.tests.ts)."""

    offset: int
    limit: int
    total_responses: int
    results: list[Site]


class GrantedPermissions(_Response):
    """``GET /accounts/{a}/sites/{s}/permissions`` as D and C's type have it; C's test
    replies a bare list instead (Variants.grant_shape)."""

    permissions: list[str]


class AccessibleSite(_Response):
    """One entry of ``GET /accounts/grant-access/{a}/sites/multiscreen`` (D "List Client
    Sites", C ListAccessibleSitesResponse)."""

    site_name: str


class Plan(_Response):
    """A plan (D site-plans.md, C plans/types.ts): ``planId`` in D and C's type,
    ``planID`` in C's test (Variants.plan_key); both are read."""

    plan_id: int = Field(
        validation_alias=AliasChoices("planId", "planID"), serialization_alias="planId"
    )
    plan_name: str = Field(validation_alias="planName", serialization_alias="planName")
