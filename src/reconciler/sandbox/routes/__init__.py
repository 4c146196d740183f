"""The sandbox's routes, one router per resource (DESIGN.md section 6).

Each module declares its routes on its own ``APIRouter``; :data:`ROUTERS` is the order in
which the app includes them (and so the order of the OpenAPI document). The write
routes share one helper, :meth:`reconciler.sandbox.routes.base.Write.run`.
"""

from __future__ import annotations

from fastapi import APIRouter

from reconciler.sandbox.routes import (
    accounts,
    collaborators,
    purchases,
    sandbox_only,
    sites,
    transfers,
)

ROUTERS: tuple[APIRouter, ...] = (
    accounts.router,
    sites.router,
    collaborators.router,
    transfers.router,
    purchases.router,
    sandbox_only.router,
)
