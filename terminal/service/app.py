"""create_app(settings): the FastAPI application with its lifespan, guards and routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from terminal.service import wiring
from terminal.service.bodylimit import BodyLimitMiddleware
from terminal.service.context import ServiceContext
from terminal.service.errors import STATUS, install_error_handlers
from terminal.service.extensions import ServiceExtension
from terminal.service.metrics import ServiceMetrics
from terminal.service.readers import ReaderManager
from terminal.service.routers import (
    audit,
    auth,
    card,
    cardlife,
    certificates,
    counter,
    events,
    health,
    pages,
    persons,
    readers,
    session,
    signing,
    surface,
)
from terminal.service.security import GuardMiddleware, OperatorDirectory
from terminal.service.settings import Settings

log = logging.getLogger("mynaterm.service")
STATIC_DIR = Path(__file__).with_name("static")

_DESCRIPTION = (
    "Local service for Individual Number Card counters and portal-login kiosks.\n\n"
    'Errors are `{"error": {"code", "message", ...}}` with stable codes: '
    + ", ".join(f"`{code}` ({status})" for code, status in sorted(STATUS.items()))
    + ". PINs travel only in request bodies."
)


def create_app(
    settings: Settings,
    *,
    context: ServiceContext | None = None,
    start_configured_parts: bool = True,
    extensions: Sequence[ServiceExtension] = (),
) -> FastAPI:
    """The service. `context` lets tests and the demo pass readers and lower-layer
    objects they built themselves; otherwise everything is built from `settings` in
    the lifespan (PC/SC readers, validation, store). `extensions` plug in from outside
    (terminal.service.extensions): the dev wing adds software readers, the local test
    PKI, the in-process core and the simulator routes; without it none of them exist."""
    secret = settings.session_secret
    assert secret is not None  # Settings fills it (dev) or refuses to start
    ctx = context or ServiceContext(
        settings=settings,
        operators=OperatorDirectory(
            settings.operators,
            secret.get_secret_value().encode(),
            settings.session_ttl_seconds,
            idle_seconds={
                "counter": settings.session_idle_seconds,
                "kiosk": settings.kiosk_session_idle_seconds,
            },
        ),
        readers=ReaderManager(),
        metrics=ServiceMetrics(),
    )
    for extension in extensions:
        ctx.extensions.append(extension)
        extension.attach(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.readers.events.bind(asyncio.get_running_loop())
        if start_configured_parts:
            for extension in ctx.extensions:
                await asyncio.to_thread(extension.start, ctx)
            await asyncio.to_thread(wiring.build_from_settings, ctx)
        ctx.metrics.readers.set(len(ctx.readers.all()))
        try:
            yield
        finally:
            ctx.readers.events.close()
            for closer in reversed(ctx.closers):
                with contextlib.suppress(Exception):
                    closer()

    app = FastAPI(
        title="mynaterm service",
        version="0.1.0",
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.dev else None,
        # The API description maps every route: outside dev only when chosen.
        openapi_url="/openapi.json" if settings.dev or settings.expose_openapi else None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    for module in (
        health,
        session,
        readers,
        events,
        card,
        surface,
        auth,
        counter,
        cardlife,
        persons,
        signing,
        certificates,
        audit,
        pages,
    ):
        app.include_router(module.router)
    for extension in ctx.extensions:
        for router in extension.routers():
            app.include_router(router)
    app.mount("/static", pages.static_files, name="static")
    app.add_middleware(_MetricsMiddleware, metrics=ctx.metrics)
    # Inside the guard (its refusals carry the security headers), before any parsing.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        GuardMiddleware,
        allowed_hosts=settings.host_allowlist(),
        allowed_origins=(
            frozenset(o.rstrip("/").lower() for o in settings.allowed_origins)
            if settings.allowed_origins
            else None
        ),
        tls=settings.tls,
    )
    return app


class _MetricsMiddleware:
    """Counts requests per route template (never per raw path: ids stay out of labels)."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def record_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
