"""The platform kind ``reconciler``: the platform API of DESIGN.md section 6 as a
:class:`~reconciler.platform.base.Platform`, spoken by :class:`PlatformClient`.

It has every capability. A batch of dry runs goes as ``POST /v1/dry-runs`` in chunks of
at most 500; a platform without that endpoint (it answers 404 or 405) gets single dry
runs (``?dry_run=true``), several at once, from then on.

The client (and ``requests`` with it) is made on first use, so that checking a
configuration (``validate``) costs no HTTP stack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.model import ObservedSite, Package, Role, TransferRecord
from reconciler.platform.base import (
    DEFAULT_TRAITS,
    EVERY_CAPABILITY,
    Capability,
    DryRun,
    DryRunAnswer,
    Interest,
    Traits,
    Written,
)
from reconciler.platform.config import (
    PlatformConfig,
    check_token,
    check_transport_security,
    token_from,
)
from reconciler.platform.errors import PlatformError
from reconciler.platform.kinds import PlatformBlock, SecretMissing
from reconciler.platform.schema import (
    MAX_DRY_RUN_BATCH,
    TransferDirection,
    to_observed,
    to_record,
)

if TYPE_CHECKING:
    from reconciler.platform.client import PlatformClient

logger = logging.getLogger("reconciler.platform")

DRY_RUN_PARALLELISM = 8
"""Single dry runs at once, for a batch on a platform without batches: each mostly
waits for the platform."""
NO_BATCHES = frozenset({404, 405})
"""What a platform without ``POST /v1/dry-runs`` answers it."""


def reconciler_platform(block: PlatformBlock, environ: Mapping[str, str]) -> ReconcilerPlatform:
    """The factory of kind ``reconciler`` (entry point ``reconciler.platforms``):
    ``url`` and ``token_env`` from the block, the token from the variable it names."""
    settings = block.parse(PlatformConfig)
    try:
        check_transport_security(settings.url)
    except ConfigError as exc:
        raise block.error("url", exc.message) from None
    try:
        token = token_from(settings, environ)
        check_token(token)
    except ConfigError as exc:
        raise SecretMissing(exc.message) from None
    return ReconcilerPlatform(settings.url, token)


class ReconcilerPlatform:
    """The reconciler's platform API for one account, over one :class:`PlatformClient`."""

    capabilities: frozenset[Capability] = EVERY_CAPABILITY
    traits: Traits = DEFAULT_TRAITS  # the rules of DESIGN.md section 2, as they are

    def __init__(self, url: str, token: str, **client_options: Any) -> None:
        self.url = url
        self._token = token
        self._options = client_options
        self._client: PlatformClient | None = None
        self._lock = threading.Lock()
        self._batches = True  # until the platform shows it has none

    @classmethod
    def over(cls, client: PlatformClient) -> ReconcilerPlatform:
        """The platform over a client made elsewhere (tests, benchmarks, the sandbox)."""
        platform = cls(client.base_url, "")
        platform._client = client
        return platform

    def __repr__(self) -> str:
        return f"ReconcilerPlatform({self.url!r})"

    @property
    def client(self) -> PlatformClient:
        with self._lock:
            if self._client is None:
                from reconciler.platform.client import PlatformClient

                self._client = PlatformClient(self.url, self._token, **self._options)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()

    # -- reads --

    def attend(self, interest: Interest) -> None:
        return None  # each site's listing has its collaborators

    def identity(self) -> str:
        return self.client.me().email

    def sites(self) -> Iterator[ObservedSite]:
        return (to_observed(site) for site in self.client.iter_sites())

    def sent_transfers(self) -> Iterator[TransferRecord]:
        sent = self.client.iter_transfers(TransferDirection.SENT)
        return (to_record(transfer) for transfer in sent)

    def site_transfers(self, site_id: str) -> list[TransferRecord]:
        return [to_record(transfer) for transfer in self.client.site_transfers(site_id)]

    def clock(self) -> datetime | None:
        return self.client.platform_time()

    # -- dry runs --

    def dry_run(self, batch: Sequence[DryRun]) -> list[DryRunAnswer]:
        """Batches of at most 500, answered in the batch's order; single dry runs on a
        platform without batches."""
        answers: list[DryRunAnswer] = []
        for start in range(0, len(batch), MAX_DRY_RUN_BATCH):
            chunk = batch[start : start + MAX_DRY_RUN_BATCH]
            answers += self._batched(chunk) if self._batches else self._singly(chunk)
        return answers

    def _batched(self, chunk: Sequence[DryRun]) -> list[DryRunAnswer]:
        try:
            return self.client.dry_run_batch([(a.write, a.if_match) for a in chunk])
        except PlatformError as failed:
            if failed.status not in NO_BATCHES:  # each write would have met it
                return [failed] * len(chunk)
            answered = failed.status
        self._batches = False
        logger.info(
            "%s has no batches of dry runs (POST /v1/dry-runs answered %s); single dry "
            "runs from now on",
            self.url,
            answered,
        )
        return self._singly(chunk)

    def _singly(self, batch: Sequence[DryRun]) -> list[DryRunAnswer]:
        """Single dry runs, several at once, answered in the batch's order."""
        with ThreadPoolExecutor(DRY_RUN_PARALLELISM, thread_name_prefix="dry-run") as pool:
            return list(pool.map(self._dry_run, batch))

    def _dry_run(self, asked: DryRun) -> DryRunAnswer:
        try:
            return self.client.dry_run(asked.write, if_match=asked.if_match)
        except PlatformError as failed:  # not asked: the caller decides what that means
            return failed

    # -- writes --

    def put_collaborator(
        self, site_id: str, email: str, role: Role, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        return self.client.put_collaborator(
            site_id, email, role, if_match=if_match, idempotency_key=idempotency_key
        )

    def delete_collaborator(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        return self.client.delete_collaborator(
            site_id, email, if_match=if_match, idempotency_key=idempotency_key
        )

    def set_billing_contact(
        self, site_id: str, email: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        return self.client.set_billing_contact(
            site_id, email, if_match=if_match, idempotency_key=idempotency_key
        )

    def start_transfer(
        self,
        site_id: str,
        to: str,
        stay_as_collaborator: bool,
        *,
        if_match: int | None,
        idempotency_key: str,
    ) -> Written:
        return self.client.start_transfer(
            site_id, to, stay_as_collaborator, if_match=if_match, idempotency_key=idempotency_key
        )

    def cancel_transfer(
        self, site_id: str, transfer_id: str, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        return self.client.cancel_transfer(
            site_id, transfer_id, if_match=if_match, idempotency_key=idempotency_key
        )

    def purchase(
        self, site_id: str, package: Package, *, if_match: int | None, idempotency_key: str
    ) -> Written:
        return self.client.purchase(
            site_id, package, if_match=if_match, idempotency_key=idempotency_key
        )
