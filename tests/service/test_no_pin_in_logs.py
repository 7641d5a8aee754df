"""No PIN reaches any log: every logger at DEBUG (caplog) while a real uvicorn server
with its access log runs logins, a wrong PIN, a badly formatted PIN, an issuance, a
signature and a My Number read. The card's PINs are unusual on purpose so a search for
them cannot hit an unrelated number."""

from __future__ import annotations

import base64
import logging
import re
import socket
import threading
import time

import httpx
import pytest
from fastapi import FastAPI

from simulators.card import SoftwareCard
from simulators.personas import TestPins as CardPins
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.service.conftest import PASSWORDS

PINS = CardPins(auth="7391", sign="QZX7391KV", cardinfo="8264")
WRONG = ["7390", "QZX7391KW", "73a1"]


def _needles() -> list[re.Pattern[str]]:
    patterns = []
    for pin in [PINS.auth, PINS.sign, PINS.cardinfo, *WRONG]:
        patterns.append(re.compile(rf"(?<![0-9A-Za-z]){re.escape(pin)}(?![0-9A-Za-z])"))
        patterns.append(re.compile(pin.encode().hex(), re.IGNORECASE))  # APDU hex
    return patterns


@pytest.fixture
def server(app: FastAPI, wired: ServiceContext):  # type: ignore[no-untyped-def]
    import uvicorn

    from terminal.service.accesslog import install_access_log_filter

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="debug",
        access_log=True,
        timeout_graceful_shutdown=3,
    )
    instance = uvicorn.Server(config)
    install_access_log_filter()  # as `mynaterm serve` does (terminal.cli.service)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:  # bounded: a server that cannot start fails, never hangs
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=15)


def test_no_pin_in_any_log(server: str, wired: ServiceContext, test_pki, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    persona = get_persona("sato-hanako")
    card = SoftwareCard.create(persona, test_pki, PINS)
    wired.readers.insert_software_card("0", card)
    with httpx.Client(base_url=server, headers={"Origin": server}, timeout=30) as http:

        def token(user: str) -> dict[str, str]:
            body = {"username": user, "password": PASSWORDS[user]}
            return {
                "Authorization": "Bearer " + http.post("/api/session", json=body).json()["token"]
            }

        clerk, kiosk = token("clerk1"), token("kiosk1")
        issued = http.post(
            "/api/issuance",
            json={
                "reader_id": "0",
                "resident_code": persona.resident_code,
                "auth_pin": PINS.auth,
                "sign_pin": PINS.sign,
                "cardinfo_pin": PINS.cardinfo,
                "face_to_face_confirmed": True,
            },
            headers=clerk,
        )
        assert issued.status_code == 200, issued.text
        assert (
            http.post("/api/readers/0/login", json={"pin": WRONG[0]}, headers=kiosk).status_code
            == 422
        )
        assert (
            http.post("/api/readers/0/login", json={"pin": WRONG[2]}, headers=kiosk).status_code
            == 422
        )
        assert (
            http.post("/api/readers/0/login", json={"pin": PINS.auth}, headers=kiosk).status_code
            == 200
        )
        signed = http.post(
            "/api/readers/0/sign",
            json={"pin": WRONG[1], "content": base64.b64encode(b"doc").decode()},
            headers=clerk,
        )
        assert signed.json()["error"]["code"] == "PIN_INCORRECT"
        assert (
            http.post(
                "/api/readers/0/mynumber", json={"pin": PINS.cardinfo}, headers=clerk
            ).status_code
            == 200
        )
        # a PIN in a malformed body must not be echoed by the validation error either
        bad = http.post("/api/readers/0/login", json={"pin": PINS.auth, "nonce": 5}, headers=kiosk)
        assert bad.status_code == 422 and PINS.auth not in bad.text
        # issue 14 #3: a PIN in the URL is refused before any card work, and the access
        # log line of that request holds the path only
        # (the test's own HTTP client logs the URLs it asks for; that log is the
        # client's, not the service's, so it is quiet for this one request)
        client_log = logging.getLogger("httpx")
        level = client_log.level
        client_log.setLevel(logging.WARNING)
        try:
            in_url = http.post(
                f"/api/readers/0/login?pin={PINS.auth}", json={"pin": PINS.auth}, headers=kiosk
            )
        finally:
            client_log.setLevel(level)
        assert in_url.status_code == 400 and in_url.json()["error"]["code"] == "SECRET_IN_URL"
        metrics = http.get("/metrics", headers=token("admin1")).text
    records = caplog.records
    assert any(r.name == "uvicorn.access" for r in records), "the access log was not captured"
    texts = [caplog.text, metrics]
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    for needle in _needles():
        for text in texts:
            assert not needle.search(text), f"{needle.pattern} found in logs"
