"""Liveness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from terminal.service.deps import Ctx, current_operator, require
from terminal.service.metrics import CONTENT_TYPE_LATEST
from terminal.service.settings import Role

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    readers: int
    version: str


@router.get("/health", response_model=Health)
def health(ctx: Ctx) -> Health:
    return Health(status="ok", readers=len(ctx.readers.all()), version="0.1.0")


@router.get("/metrics", response_class=Response)
def metrics(ctx: Ctx, request: Request) -> Response:
    """Prometheus text. Outside dev an admin's session is needed, unless the operator
    chose `metrics_public` (e.g. for a scraper on the same host)."""
    if not (ctx.settings.dev or ctx.settings.metrics_public):
        require(Role.ADMIN)(current_operator(request, ctx))
    ctx.metrics.readers.set(len(ctx.readers.all()))
    ctx.metrics.sse_clients.set(ctx.readers.events.subscriber_count)
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)
