"""Prometheus metrics of one app instance (own registry, so several apps in one process,
as in tests, do not collide). Labels never carry PINs, card data or person ids."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# The *_created series double the output and nobody here graphs them.
disable_created_metrics()  # type: ignore[no-untyped-call]

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics"]


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mynaterm_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mynaterm_http_request_seconds",
            "HTTP request latency by route template.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.card_operations = Counter(
            "mynaterm_card_operations_total",
            "Card operations by kind and outcome code (OK or an error code).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.readers = Gauge(
            "mynaterm_readers", "Readers known to the service.", registry=self.registry
        )
        self.sse_clients = Gauge(
            "mynaterm_sse_clients", "Pages subscribed to reader events.", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
