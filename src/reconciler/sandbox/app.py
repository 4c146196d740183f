"""The sandbox's HTTP API (DESIGN.md section 6) as a FastAPI application.

The routes live in :mod:`reconciler.sandbox.routes`, one router per resource; they are
thin: authenticate, parse the conditional and idempotency headers, call one store
operation inside one transaction, turn the result into an answer. Every error is an
``application/problem+json`` body, FastAPI's own validation and routing errors too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from reconciler.sandbox.exchange import PROBLEM_MEDIA_TYPE, StatsCounter, auth_challenge, title_of
from reconciler.sandbox.faults import FaultSpec
from reconciler.sandbox.middleware import PlatformDate, SandboxMiddleware, problem_response
from reconciler.sandbox.routes import ROUTERS
from reconciler.sandbox.store import Refusal, SandboxStore


def create_app(store: SandboxStore, faults: FaultSpec | None = None) -> FastAPI:
    """The sandbox API over ``store``, injecting ``faults`` (none by default)."""
    app = FastAPI(
        title="Site platform sandbox",
        version="1",
        description="A local implementation of the site platform's API.",
        docs_url=None,
        redoc_url=None,
    )
    stats = StatsCounter()
    app.state.store = store
    app.state.stats = stats
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # The counters name a request by its route's template: the app's own routes and each
    # router's (the app holds an included router as one entry without a template).
    own = [route for route in app.router.routes if isinstance(route, Route)]
    templates = [*own, *(route for router in ROUTERS for route in router.routes)]
    app.state.routes = templates
    app.add_middleware(
        SandboxMiddleware, faults=faults or FaultSpec(), stats=stats, routes=templates
    )
    app.add_middleware(PlatformDate, clock=store.now)  # outermost: dates every answer

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            )  # fmt: skip
            app.openapi_schema = _problem_media_types(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every answer under application/json; errors are problem+json."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


def _install_error_handlers(app: FastAPI) -> None:
    async def on_refusal(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return problem_response(exc.status, exc.title, exc.detail, auth_challenge(exc.status))

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, "Unprocessable Content", _validation_detail(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail, status = str(exc.detail), exc.status_code
        if status == 400:
            # FastAPI says 400 for a body it cannot decode; the API documents that as 422.
            detail, status = f"The request body cannot be read as JSON: {detail}", 422
        elif status == 404:
            detail = f"There is no route {request.url.path}; /openapi.json lists the routes."
        headers = dict(exc.headers or {})
        if status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
            # Starlette names only the first route on the path; the path allows them all.
            headers["Allow"] = ", ".join(_methods_of_path(app, request))
        return problem_response(status, title_of(status), detail, headers)

    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _methods_of_path(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.state.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is malformed."
