"""Routes only the sandbox has: its request counters."""

from __future__ import annotations

from fastapi import APIRouter, Request

from reconciler.platform.schema import Stats
from reconciler.sandbox.exchange import StatsCounter

router = APIRouter(tags=["sandbox"])


@router.get("/sandbox/stats", response_model=Stats)
def sandbox_stats(request: Request) -> Stats:
    """Requests served so far, by route template and by status."""
    stats: StatsCounter = request.app.state.stats
    return stats.snapshot()
