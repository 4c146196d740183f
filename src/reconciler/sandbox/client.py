"""The platform client plus the calls only the sandbox's users make.

The product never reads invoices, answers a transfer or reads request counters; tests,
benchmarks and demos do, acting as the client (the recipient of a transfer) or watching
the sandbox. Those calls live here, so that :class:`PlatformClient` keeps only what the
reconciler calls.
"""

from __future__ import annotations

from urllib.parse import quote

from reconciler.platform.client import PlatformClient, WriteResult
from reconciler.platform.schema import Invoice, InvoiceList, Stats, Transfer


class SandboxClient(PlatformClient):
    """A :class:`PlatformClient` that can also answer transfers and read the counters."""

    def invoices(self, site_id: str) -> list[Invoice]:
        """The owner's invoices for the site (owner only)."""
        response = self._request("GET", f"/v1/sites/{_segment(site_id)}/invoices")
        return self._parse(InvoiceList, response).items

    def stats(self) -> Stats:
        """The sandbox's request counters (sandbox only)."""
        return self._parse(Stats, self._request("GET", "/sandbox/stats"))

    def accept_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Transfer]:
        """Accept a transfer addressed to this account."""
        return self._respond(transfer_id, "accept", idempotency_key)

    def decline_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Transfer]:
        """Decline a transfer addressed to this account."""
        return self._respond(transfer_id, "decline", idempotency_key)

    def _respond(self, transfer_id: str, verb: str, key: str | None) -> WriteResult[Transfer]:
        path = f"/v1/transfers/{_segment(transfer_id)}/{verb}"
        return self._write_result(Transfer, self._request("POST", path, idempotency_key=key))


def _segment(value: str) -> str:
    return quote(value, safe="@")
