"""Server-sent events: reader and card state pushed to the pages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from terminal.service.deps import AnyOperator, Ctx

router = APIRouter(prefix="/api/events", tags=["events"])

KEEPALIVE_SECONDS = 15.0


def _frame(event: dict[str, Any]) -> str:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.get('id', 0)}\nevent: {event['type']}\ndata: {data}\n\n"


@router.get(
    "",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    ctx: Ctx,
    _: AnyOperator,
    limit: Annotated[
        int | None, Query(ge=1, le=10000, description="Close after this many events")
    ] = None,
    max_seconds: Annotated[
        float | None, Query(gt=0, le=86400, description="Close after this many seconds")
    ] = None,
) -> StreamingResponse:
    """A snapshot of every reader first, then each change as it happens. `limit` bounds
    the stream (tests, scripts); pages leave it open and EventSource reconnects."""

    async def frames() -> AsyncIterator[str]:
        hub = ctx.readers.events
        loop = asyncio.get_running_loop()
        deadline = None if max_seconds is None else loop.time() + max_seconds
        ctx.metrics.sse_clients.inc()
        try:
            async with hub.subscribe() as queue:
                snapshot = {
                    "id": 0,
                    "type": "snapshot",
                    "readers": [reader.state() for reader in ctx.readers.all()],
                }
                yield _frame(snapshot)
                sent = 1
                while limit is None or sent < limit:
                    wait = KEEPALIVE_SECONDS
                    if deadline is not None:
                        wait = min(wait, deadline - loop.time())
                        if wait <= 0:
                            return
                    try:
                        event = await asyncio.wait_for(queue.get(), wait)
                    except TimeoutError:
                        if deadline is not None and loop.time() >= deadline:
                            return
                        if await request.is_disconnected():
                            return
                        yield ": keep-alive\n\n"
                        continue
                    if event is None:  # service shutting down
                        return
                    yield _frame(event)
                    sent += 1
        finally:
            ctx.metrics.sse_clients.dec()

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
