"""Issue 14 #3, #8, #10: what the HTTP layer refuses before any route runs, and what
every response carries."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jpki.constants import PinKind
from terminal.service.accesslog import StripQueryFilter, install_access_log_filter
from terminal.service.bodylimit import DEFAULT_CAP
from terminal.service.context import ServiceContext
from tests.service.conftest import BASE_URL, ORIGIN, Session

# --- #3: no secret in a URL ------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["pin=2580", "PIN=2580", "new_pin=1234", "Password=x", "newPin=1"]
)
def test_a_pin_in_the_url_is_refused_before_any_card_work(
    client: TestClient, kiosk: Session, insert_card, query: str
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    before = card.pin_remaining(PinKind.AUTH)
    response = client.post(
        f"/api/readers/0/login?{query}", json={"pin": "2580"}, headers=kiosk.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "SECRET_IN_URL"
    assert "2580" not in response.text
    assert card.pin_remaining(PinKind.AUTH) == before  # no try spent, no APDU sent


def test_ordinary_query_parameters_pass(client: TestClient, kiosk: Session) -> None:
    response = client.get("/api/events?limit=1&max_seconds=0.1", headers=kiosk.headers)
    assert response.status_code == 200


def test_the_access_log_never_holds_a_query_string() -> None:
    """The line uvicorn writes (its AccessFormatter over the record it makes)."""
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/api/readers/1/login?pin=2580", "1.1", 400),
        None,
    )
    assert StripQueryFilter().filter(record)
    line = AccessFormatter("%(client_addr)s - %(request_line)s %(status_code)s").format(record)
    assert "2580" not in line and "/api/readers/1/login" in line
    install_access_log_filter()
    install_access_log_filter()  # idempotent
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, StripQueryFilter) for f in filters) == 1


# --- #8: body caps ---------------------------------------------------------------------


def test_a_declared_oversized_body_is_refused_unread(client: TestClient) -> None:
    response = client.post(
        "/api/session",
        content=b"{}",
        headers={"Content-Length": str(100 * 1024 * 1024), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_streamed_oversized_body_is_refused_while_counting(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(64):
            yield b" " * 4096  # 256 KiB, no Content-Length (chunked)

    response = client.post(
        "/api/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_bodies_within_the_cap_are_served(client: TestClient) -> None:
    padded = b'{"username": "nobody", "password": "x"' + b" " * (DEFAULT_CAP - 100) + b"}"
    response = client.post(
        "/api/session", content=padded, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401  # parsed and answered, not refused for size


# --- #10: error responses, duplicate headers, what is not anonymous ----------------------


def test_a_500_carries_the_security_headers(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/boom", boom, methods=["GET"])
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}
    for header in ("x-content-type-options", "content-security-policy", "x-frame-options"):
        assert header in response.headers, header
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [
        [("Host", "127.0.0.1:8700"), ("Host", "evil.example")],
        [("Origin", ORIGIN), ("Origin", "https://evil.example")],
    ],
    ids=["host", "origin"],
)
def test_repeated_host_or_origin_is_refused(
    client: TestClient, headers: list[tuple[str, str]]
) -> None:
    """The guard read the last of repeated headers while the app read the first."""
    raw = [(k.encode(), v.encode()) for k, v in headers]
    scope_headers = [*raw, (b"content-type", b"application/json")]
    import asyncio
    import threading

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    app = client.app
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/session",
        "raw_path": b"/api/session",
        "query_string": b"",
        "headers": scope_headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8700),
    }
    # A thread of its own: the browser tests' Playwright (sync API) keeps an event loop
    # running in the main thread for the whole session.
    worker = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))  # type: ignore[arg-type]
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    assert b"DUPLICATE_HEADER" in body


def test_openapi_is_not_served_outside_dev(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404


def test_openapi_and_metrics_when_the_operator_chooses(
    service_settings, ctx: ServiceContext
) -> None:  # type: ignore[no-untyped-def]
    from terminal.dev.wing import DevWing
    from terminal.service import create_app

    settings = service_settings.model_copy(update={"expose_openapi": True, "metrics_public": True})
    app = create_app(settings, extensions=[DevWing()])
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/metrics").status_code == 200
