"""The service on real PC/SC: pcscd + vpcd readers with software cards behind them. The
reader monitor adds the readers and follows card insertion; card work goes through
pyscard (card.pcsc) under the same per-reader lock."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from jpki.constants import PinKind
from terminal.service import create_app
from tests.service.conftest import BASE_URL, ORIGIN, PASSWORDS

pytestmark = pytest.mark.pcsc


def wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_pcsc_readers_cards_and_busy(service_settings, reader_pool, card_templates) -> None:  # type: ignore[no-untyped-def]
    settings = service_settings.model_copy(update={"pcsc": True, "software_readers": 0})
    app = create_app(settings)
    card = card_templates["yamada-taro"].copy()
    plugged = reader_pool.plug(card)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.headers["Origin"] = ORIGIN
        token = client.post(
            "/api/session", json={"username": "kiosk1", "password": PASSWORDS["kiosk1"]}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def state() -> dict | None:  # type: ignore[type-arg]
            readers = client.get("/api/readers", headers=headers).json()
            return next((r for r in readers if r["name"] == plugged.reader), None)

        assert wait_for(lambda: (state() or {}).get("card_present") is True), "card not seen"
        reader = state()
        assert reader is not None and reader["kind"] == "pcsc"
        summary = client.get(f"/api/readers/{reader['id']}/card", headers=headers)
        assert summary.status_code == 200, summary.text
        assert summary.json()["token_info"] == "JPKIAPICCTOKEN2"
        assert card.pin_remaining(PinKind.AUTH) == 3
        ctx = app.state.ctx
        with ctx.readers.session(reader["id"], "held-by-test"):
            busy = client.get(f"/api/readers/{reader['id']}/card", headers=headers)
            assert busy.status_code == 409 and busy.json()["error"]["code"] == "READER_BUSY"
        plugged.bridge.remove()
        assert wait_for(lambda: (state() or {}).get("card_present") is False), "removal not seen"
        empty = client.get(f"/api/readers/{reader['id']}/card", headers=headers)
        assert empty.status_code == 409 and empty.json()["error"]["code"] == "NO_CARD"
