"""The seam through which the service is extended from outside (the dev wing:
terminal.dev.DevWing). The product service never imports what plugs in here.

    app = create_app(settings, extensions=[DevWing()])

An extension may
- `routers()`: give FastAPI routers, mounted after the product's own (a service built
  without the extension has no such route at all: 404);
- `attach(ctx)`: keep state on the context when the app is created (synchronously, so
  tests and the demo see it at once);
- `start(ctx)`: add readers and lower-layer parts in the lifespan, before the product's
  wiring builds what the settings configure (parts already set are kept as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

    from terminal.service.context import ServiceContext


class ServiceExtension:
    """Base class: every hook does nothing unless overridden."""

    name = "extension"

    def routers(self) -> Sequence[APIRouter]:
        return ()

    def attach(self, ctx: ServiceContext) -> None:
        """Called once by create_app, after the context exists."""

    def start(self, ctx: ServiceContext) -> None:
        """Called in the lifespan (in a worker thread) before the product's wiring."""
