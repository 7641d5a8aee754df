"""Reaching an agency over HTTP with a relayed request: the core POSTs
`{"symbol": <the agency's own symbol>, "request": {...}}` to the agency's `relay_url`
and takes the JSON object it answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from simulators.core.core import Responder
from simulators.core.errors import RelayRefused


def http_responder(url: str, *, timeout: float = 5.0) -> Responder:
    def respond(symbol: str, request: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            response = httpx.post(
                url, json={"symbol": symbol, "request": dict(request)}, timeout=timeout
            )
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RelayRefused(f"the agency at {url} did not answer: {exc}") from exc
        if response.status_code >= 400 or not isinstance(payload, dict):
            raise RelayRefused(f"the agency at {url} answered {response.status_code}")
        return payload

    return respond
