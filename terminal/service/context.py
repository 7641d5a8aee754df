"""What the routes share: settings, readers, operators, metrics and the lower layers'
objects (validation, challenges, linkage registry, audit). Tests build one with
emulator-backed parts and pass it to create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from terminal.service.metrics import ServiceMetrics
from terminal.service.readers import ReaderManager
from terminal.service.security import OperatorDirectory
from terminal.service.settings import Settings


@dataclass
class ServiceContext:
    settings: Settings
    operators: OperatorDirectory
    readers: ReaderManager = field(default_factory=ReaderManager)
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    # Lower layers; None until configured (routes needing one answer NOT_AVAILABLE).
    validator: Any | None = None
    challenges: Any | None = None
    token_validator: Any | None = None
    registry: Any | None = None
    audit: Any | None = None
    core: Any | None = None
    mynumber_index: Any | None = None
    # Software cards the simulator controls may insert, by label (dev/demo only). The
    # same card object is reused, so its PIN counters persist like a plastic card's.
    card_library: dict[str, Any] = field(default_factory=dict)
    # The service's notion of now for validation and challenges (tests move it).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Things to close at shutdown (servers, engines), in reverse order.
    closers: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.readers.on_outcome is None:
            self.readers.on_outcome = lambda operation, code: self.metrics.card_operations.labels(
                operation, code
            ).inc()
