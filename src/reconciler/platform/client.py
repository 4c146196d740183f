"""The platform API client: one pooled ``requests`` session, retries, typed errors.

Every write carries an ``Idempotency-Key`` that stays the same across its retries, so a
retry after a lost answer never takes effect twice; the platform replays the first
answer, even for a conditional write whose ``If-Match`` its own first attempt made stale.
Errors come from :func:`reconciler.platform.errors.error_for_response`; the error
class's ``retryable`` decides whether to retry. The token never appears in logs,
messages or reprs, and is never sent over plain http except to a loopback address.

The session, the retry policy and the deadline's words are shared with the Duda adapter
(:mod:`reconciler.platform.transport`).
"""

from __future__ import annotations

import email.utils
import http
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote, urlsplit

from reconciler.platform import http_stack  # noqa: F401  # first: see its docstring

# isort: split
import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from reconciler.model import Package, Role
from reconciler.net import REDACTED, redact
from reconciler.platform import base
from reconciler.platform.config import (
    PlatformConfig,
    check_token,
    check_transport_security,
    token_from,
)
from reconciler.platform.deadline import (
    Deadline,
    TimerFactory,
    thread_timer,
)
from reconciler.platform.errors import (
    REFUSALS,
    PlatformError,
    RateLimited,
    TransportError,
    error_for_response,
)
from reconciler.platform.pacing import Pacer, parse_ratelimit
from reconciler.platform.schema import (
    MAX_DRY_RUN_BATCH,
    MAX_PAGE_SIZE,
    Account,
    DryRunBatch,
    DryRunResult,
    DryRunResults,
    DryRunWrite,
    Purchase,
    Site,
    SitePage,
    Transfer,
    TransferDirection,
    TransferList,
    TransferPage,
)
from reconciler.platform.transport import (
    DEFAULT_DEADLINE,
    NO_ANSWER,
    Late,
    RetryBudget,
    RetryPolicy,
    brief,
    given_up,
    new_session,
)

logger = logging.getLogger("reconciler.platform")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", SitePage, TransferPage)


@dataclass(frozen=True)
class WriteResult(Generic[T]):
    """The result of a write and the site's version after it (from ``ETag``)."""

    value: T
    version: int


class _Secret:
    """Holds the token so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


InProcessAnswer = tuple[int, Mapping[str, str], bytes]
"""What an in-process platform answers: the status, the header fields and the body."""
InProcessHandler = Callable[[str, str, Mapping[str, str], bytes], InProcessAnswer | None]
"""``handler(method, target, headers, body)``, the target being the path and query as
sent (percent-encoded); None when no answer comes (the connection is lost)."""


class _InProcessAdapter(BaseAdapter):
    """requests' transport to a platform in this process: the prepared request goes to
    ``handler`` instead of a socket, and its answer comes back as a ``Response``, so
    that everything above the socket (retries, errors, ETags, the ``Date``) runs as it
    does over HTTP. As httpx's ``Client(transport=...)``."""

    def __init__(self, handler: InProcessHandler) -> None:
        super().__init__()
        self._handler = handler

    def send(  # requests' signature, keyword defaults included
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
        verify: Any = True, cert: Any = None, proxies: Any = None,
    ) -> requests.Response:  # fmt: skip
        url = urlsplit(request.url or "")
        target = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        answered = self._handler(request.method or "GET", target, dict(request.headers), body)
        if answered is None:
            raise requests.exceptions.ConnectionError(
                "the in-process platform sent no answer", request=request
            )
        status, headers, content = answered
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = b"" if request.method == "HEAD" else content
        response.url = request.url or ""
        response.request = request
        response.reason = http.HTTPStatus(status).phrase if status in _STATUSES else ""
        return response

    def close(self) -> None:
        return None


_STATUSES = frozenset(status.value for status in http.HTTPStatus)


def in_process_session(handler: InProcessHandler) -> requests.Session:
    """A session whose every request goes to ``handler`` in this process, never to the
    network: pass it as ``PlatformClient(session=...)``."""
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    adapter = _InProcessAdapter(handler)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def parse_etag(value: str | None) -> int | None:
    """``"3"`` or ``W/"3"`` -> 3; anything else -> None."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    return int(text) if text.isdigit() else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class PlatformClient:
    """The platform's API for one account; safe to share between threads.

    ``session`` may be injected (a ``requests.Session`` or a compatible object), as
    httpx injects a transport; the client closes only a session it created. So may
    everything that reads the clock: ``sleep`` (between retries), ``pacer`` (its own
    clock and sleep) and ``deadline_timer`` (when an attempt's deadline passes).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 30),
        deadline: float = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer | None = None,
        deadline_timer: TimerFactory = thread_timer,
    ) -> None:
        check_transport_security(base_url)
        check_token(token)
        self.base_url = base_url.rstrip("/")
        self._token = _Secret(token)
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        self.timeout = timeout
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._random = random.Random()
        self._random_lock = threading.Lock()
        self.pacer = pacer or Pacer()
        self._deadline_timer = deadline_timer
        self._platform_time: datetime | None = None

    @classmethod
    def from_config(
        cls, platform: PlatformConfig, environ: Mapping[str, str], **kwargs: Any
    ) -> PlatformClient:
        """A client for ``platform``, with the token from the variable it names."""
        return cls(platform.url, token_from(platform, environ), **kwargs)

    def __repr__(self) -> str:
        return f"PlatformClient({self.base_url!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def platform_time(self) -> datetime | None:
        """The platform's clock, from the ``Date`` of its latest answer (None before any).

        Expiry and days left are computed from this, never from the local clock: the
        platform decides when a transfer expires.
        """
        return self._platform_time

    def _note_date(self, value: str | None) -> None:
        try:
            moment = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            self._platform_time = moment

    # -- reads --

    def me(self) -> Account:
        return self._parse(Account, self._request("GET", "/v1/me"))

    def iter_sites(self, page_size: int = MAX_PAGE_SIZE) -> Iterator[Site]:
        """Every site the account sees, one request per page."""
        for page in self._pages(SitePage, "/v1/sites", {"limit": page_size}):
            yield from page.items

    def iter_transfers(
        self, direction: TransferDirection = TransferDirection.SENT, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[Transfer]:
        """The transfers the account sent (also of sites it can no longer see) or received,
        newest first, one request per page: how each handover ended."""
        params: dict[str, str | int] = {"direction": direction.value, "limit": page_size}
        for page in self._pages(TransferPage, "/v1/transfers", params):
            yield from page.items

    def site_transfers(self, site_id: str) -> list[Transfer]:
        """Every transfer of a site the account sees, newest first."""
        response = self._request("GET", _path("v1", "sites", site_id, "transfers"))
        return self._parse(TransferList, response).items

    def _pages(self, model: type[P], path: str, params: Mapping[str, str | int]) -> Iterator[P]:
        cursor: str | None = None
        while True:
            query = dict(params) if cursor is None else {**params, "cursor": cursor}
            page = self._parse(model, self._request("GET", path, params=query))
            yield page
            cursor = page.next_cursor
            if cursor is None:
                return

    def get_site(self, site_id: str) -> Site:
        return self._parse(Site, self._request("GET", _path("v1", "sites", site_id)))

    # -- writes --

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[Site]:  # fmt: skip
        write = base.PutCollaborator(site_id, email, Role(role))
        return self._write_result(Site, self._send(write, if_match, idempotency_key))

    def delete_collaborator(
        self, site_id: str, email: str, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[None]:  # fmt: skip
        write = base.DeleteCollaborator(site_id, email)
        return WriteResult(None, self._version(self._send(write, if_match, idempotency_key)))

    def set_billing_contact(
        self, site_id: str, email: str, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[Site]:  # fmt: skip
        write = base.SetBillingContact(site_id, email)
        return self._write_result(Site, self._send(write, if_match, idempotency_key))

    def start_transfer(
        self, site_id: str, to: str, stay_as_collaborator: bool, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[Transfer]:  # fmt: skip
        write = base.StartTransfer(site_id, to, stay_as_collaborator)
        return self._write_result(Transfer, self._send(write, if_match, idempotency_key))

    def cancel_transfer(
        self, site_id: str, transfer_id: str, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[None]:  # fmt: skip
        write = base.CancelTransfer(site_id, transfer_id)
        return WriteResult(None, self._version(self._send(write, if_match, idempotency_key)))

    def purchase(
        self, site_id: str, package: Package, *,
        if_match: int | None = None, idempotency_key: str | None = None,
    ) -> WriteResult[Purchase]:  # fmt: skip
        write = base.Purchase(site_id, Package(package))
        return self._write_result(Purchase, self._send(write, if_match, idempotency_key))

    def _send(
        self, write: base.Write, if_match: int | None, idempotency_key: str | None
    ) -> requests.Response:
        method, path, body = request_of(write)
        return self._request(
            method, path, json=body, if_match=if_match, idempotency_key=idempotency_key
        )

    # -- dry runs: the platform's answer to a write, without the write --

    def dry_run(self, write: base.Write, *, if_match: int | None = None) -> PlatformError | None:
        """Would the platform make this write? None if so, else its refusal.

        The platform runs every check (e.g. "the client must sign up first") and changes
        nothing; a read token is enough. An error that is no refusal (the platform
        failed, the token is unknown) is raised.
        """
        method, path, body = request_of(write)
        try:
            self._request(method, path, json=body, if_match=if_match, dry_run=True)
        except REFUSALS as refusal:
            return refusal
        return None

    def dry_run_start_transfer(
        self, site_id: str, to: str, stay_as_collaborator: bool, *, if_match: int | None = None
    ) -> PlatformError | None:
        """Would the platform start this transfer? None if so, else its refusal."""
        return self.dry_run(
            base.StartTransfer(site_id, to, stay_as_collaborator), if_match=if_match
        )

    def dry_run_purchase(
        self, site_id: str, package: Package, *, if_match: int | None = None
    ) -> PlatformError | None:
        """Would the platform sell this package? None if so, else its refusal."""
        return self.dry_run(base.Purchase(site_id, Package(package)), if_match=if_match)

    def dry_run_batch(
        self, writes: Sequence[tuple[base.Write, int | None]]
    ) -> list[PlatformError | None]:
        """Would the platform make these writes (each with its If-Match)? One request,
        ``POST /v1/dry-runs``, of at most :data:`MAX_DRY_RUN_BATCH` writes.

        Each answer, in order, is what :meth:`dry_run` of that write gives: None if it
        would be accepted, else the same error with the same message (a 412 is a
        ``StaleVersion``); an error that is no refusal is an answer here too, since it is
        the write's alone. An error of the batch request itself is raised: a platform
        without batches answers it 404 or 405.
        """
        if len(writes) > MAX_DRY_RUN_BATCH:
            raise ValueError(f"a batch of dry runs holds at most {MAX_DRY_RUN_BATCH} writes")
        wire = [_dry_run_write(write, if_match) for write, if_match in writes]
        body = DryRunBatch(writes=wire).model_dump(mode="json")
        response = self._request("POST", "/v1/dry-runs", json=body, changes_nothing=True)
        results = self._parse(DryRunResults, response).results
        if len(results) != len(wire):
            raise PlatformError(
                f"POST /v1/dry-runs: the platform answered {len(results)} results for "
                f"{len(wire)} writes",
                status=response.status_code,
            )
        return [self._answer_of(asked, result) for asked, result in zip(wire, results, strict=True)]

    def _answer_of(self, asked: DryRunWrite, result: DryRunResult) -> PlatformError | None:
        """One result of a batch as the single dry run's answer (or error) would be."""
        if result.status < 400:
            return None
        body = "" if result.problem is None else result.problem.model_dump_json()
        return error_for_response(
            result.status, body, operation=f"{asked.method} {asked.path}",
            secrets=(self._token.reveal(),),
        )  # fmt: skip

    # -- the one place where requests are sent, retried and mapped to errors --

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, object] | None = None,
        if_match: int | None = None,
        idempotency_key: str | None = None,
        dry_run: bool = False,
        changes_nothing: bool = False,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if dry_run:  # changes nothing, so there is nothing to repeat safely
            params = {**(params or {}), "dry_run": "true"}
        elif method != "GET" and not changes_nothing:
            # One key for the whole logical operation, reused by every retry.
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        operation = f"{method} {path}"
        budget = RetryBudget(self.retry)
        while True:
            outcome = self._attempt(operation, method, path, params, json, headers)
            if isinstance(outcome, requests.Response):
                self._note_date(outcome.headers.get("Date"))
                return outcome
            delay = self._retry_delay(outcome, budget)
            logger.info("%s: %s; retrying in %.2fs", operation, type(outcome).__name__, delay)
            self._sleep(delay)

    def _attempt(
        self,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Mapping[str, object] | None,
        headers: dict[str, str],
    ) -> requests.Response | PlatformError:
        """One try within the deadline: the successful answer, or the error it ended in."""
        token = self._token.reveal()
        headers = {**headers, "Authorization": f"Bearer {token}"}
        connect, read = self.timeout
        timeout = (min(connect, self.deadline), min(read, self.deadline))
        late = Late(
            f"{operation}: no complete answer from {self.base_url} within the deadline of "
            f"{self.deadline:g} s"
        )
        self.pacer.wait()  # every thread of this client within the platform's one budget
        try:
            with Deadline(self.deadline, timer=self._deadline_timer) as deadline:
                response = self._session.request(
                    method, self.base_url + path, params=params, json=json,
                    headers=headers, timeout=timeout,
                )  # fmt: skip
        except NO_ANSWER as exc:
            self.pacer.done()
            logger.debug("%s: no answer (%s)", operation, type(exc).__name__)
            if deadline.expired:
                return late
            why = redact(brief(exc), token)
            return TransportError(f"{operation}: no answer from {self.base_url} ({why})")
        except requests.RequestException as exc:
            self.pacer.done()
            # Not a network failure: the request could not be made. Its message may quote
            # headers, the token among them, so only the kind of failure is shown.
            raise TransportError(
                f"{operation}: the request to {self.base_url} could not be sent "
                f"({type(exc).__name__})"
            ) from None
        if deadline.expired:  # cut off: what was read may look whole (headers end at EOF)
            self.pacer.done()
            response.close()
            return late
        logger.debug("%s -> %s", operation, response.status_code)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        announced = parse_ratelimit(response.headers)
        self.pacer.learn(announced, status=response.status_code, retry_after=retry_after)
        self.pacer.done()
        if response.status_code < 400:
            return _without(token, response)
        return error_for_response(
            response.status_code, response.text, operation=operation,
            retry_after=retry_after, secrets=(token,),
        )  # fmt: skip

    def _retry_delay(self, error: PlatformError, budget: RetryBudget) -> float:
        """Seconds to wait before the next try; raises ``error`` to give up."""
        if not error.retryable:
            raise error
        policy = self.retry
        if isinstance(error, RateLimited):
            asked = error.retry_after if error.retry_after is not None else policy.base_delay
            if asked > policy.max_rate_limit_wait:
                raise given_up(
                    error,
                    f"the platform asks to wait {asked:g} s, more than the "
                    f"{policy.max_rate_limit_wait:g} s this client waits for its rate limit "
                    "in all",
                )
            # The jitter spreads threads that waited together.
            return budget.rate_limited(error, asked + self._jitter(policy.base_delay))
        budget.failed(error)
        return self._jitter(min(policy.max_delay, policy.base_delay * 2 ** (budget.failures - 1)))

    def _jitter(self, ceiling: float) -> float:
        with self._random_lock:
            return self._random.uniform(0.0, ceiling)

    # -- answers --

    def _parse(self, model: type[M], response: requests.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise PlatformError(
                f"{response.request.method} {urlsplit(response.url).path}: the platform's "
                f"answer is not a valid {model.__name__} ({exc.error_count()} problems)",
                status=response.status_code,
            ) from None

    def _version(self, response: requests.Response) -> int:
        version = parse_etag(response.headers.get("ETag"))
        if version is None:
            raise PlatformError(
                f"{response.request.method} {urlsplit(response.url).path}: the platform's "
                "answer has no ETag with the site's version",
                status=response.status_code,
            )
        return version

    def _write_result(self, model: type[M], response: requests.Response) -> WriteResult[M]:
        return WriteResult(self._parse(model, response), self._version(response))


def request_of(write: base.Write) -> tuple[str, str, dict[str, object] | None]:
    """The method, path and body of one of the six writes (DESIGN.md section 6)."""
    site = write.site_id
    match write:
        case base.PutCollaborator():
            path = _path("v1", "sites", site, "collaborators", write.email)
            return "PUT", path, {"role": Role(write.role).value}
        case base.DeleteCollaborator():
            return "DELETE", _path("v1", "sites", site, "collaborators", write.email), None
        case base.SetBillingContact():
            return "PUT", _path("v1", "sites", site, "billing-contact"), {"email": write.email}
        case base.StartTransfer():
            body = {"to": write.to, "stay_as_collaborator": write.stay_as_collaborator}
            return "POST", _path("v1", "sites", site, "transfers"), body
        case base.CancelTransfer():
            return "DELETE", _path("v1", "sites", site, "transfers", write.transfer_id), None
        case base.Purchase():
            body = {"package": Package(write.package).value}
            return "POST", _path("v1", "sites", site, "purchases"), body


def _dry_run_write(write: base.Write, if_match: int | None) -> DryRunWrite:
    """One write of a batch of dry runs, as :func:`request_of` would send it alone."""
    method, path, body = request_of(write)
    return DryRunWrite(
        method=method, path=path, body=body,
        if_match=None if if_match is None else f'"{if_match}"',
    )  # fmt: skip


def _path(*segments: str) -> str:
    """``/v1/sites/x`` with each segment escaped (``@`` may stay as it is)."""
    return "/" + "/".join(_segment(segment) for segment in segments)


_UNESCAPED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~@"
"""What ``quote(segment, safe="@")`` leaves as it is: its always-safe characters and @."""


def _segment(segment: str) -> str:
    # Most segments (v1, sites, an id, an address) need no escape: quote's own check, at
    # C speed, without its encoding round trip (a batch of dry runs has 2,000 of them).
    if not segment.rstrip(_UNESCAPED):
        return segment
    return quote(segment, safe="@")


def _without(token: str, response: requests.Response) -> requests.Response:
    """The answer with the token cut out, should the platform quote it in its data (a
    site's name, say): whatever the reconciler shows of it never shows the token."""
    secret = token.encode()
    if secret in response.content:
        response._content = response.content.replace(secret, REDACTED.encode())
    return response
