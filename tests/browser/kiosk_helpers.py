"""What the kiosk and counter browser tests share: signing in, issuing a card over
HTTP, counting the VERIFY commands a card receives, a card that is not a My Number card."""

from __future__ import annotations

from typing import Any

import httpx

from simulators.personas import get_persona
from tests.service.conftest import PASSWORDS

YAMADA = get_persona("yamada-taro")
SATO = get_persona("sato-hanako")


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#signin-form input[name=username]", username)
    page.fill("#signin-form input[name=password]", PASSWORDS[username])
    page.click("#signin-form button[type=submit]")


def token(base: str, username: str) -> str:
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        response = http.post(
            "/api/session", json={"username": username, "password": PASSWORDS[username]}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])


def call(base: str, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    with httpx.Client(base_url=base, headers={"Origin": base}, timeout=30) as http:
        return http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token(base, who)}"}
        )


def issue_over_http(base: str, reader: str, persona: Any = YAMADA) -> dict[str, Any]:
    response = call(
        base,
        "clerk1",
        "POST",
        "/api/issuance",
        {
            "reader_id": reader,
            "resident_code": persona.resident_code,
            "auth_pin": persona.pins.auth,
            "sign_pin": persona.pins.sign,
            "face_to_face_confirmed": True,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


class VerifyCounter:
    """Counts the VERIFY commands that carry a PIN (a status check carries none) sent
    to the card now in a software reader."""

    def __init__(self, ctx: Any, reader_id: str) -> None:
        self.count = 0
        connection = ctx.readers.get(reader_id).slot.connect()
        real = connection.transmit

        def transmit(apdu: bytes) -> tuple[bytes, int]:
            if len(apdu) > 5 and apdu[1] == 0x20:
                self.count += 1
            return real(apdu)  # type: ignore[no-any-return]

        connection.transmit = transmit


class ForeignCard:
    """A contact IC card without the JPKI applet (a bank or transit card, say): its OS
    answers 6A82 (file not found) to every SELECT by name and 6D00 to anything else."""

    t0 = False
    atr = bytes.fromhex("3B8880010000000000000000")

    def __init__(self) -> None:
        self.powered = True

    def power_on(self) -> bytes:
        self.powered = True
        return self.atr

    def power_off(self) -> None:
        self.powered = False

    def process(self, apdu: bytes) -> bytes:
        if len(apdu) >= 4 and apdu[1] == 0xA4:
            return b"\x6a\x82"
        return b"\x6d\x00"


def carried_to_kiosk(ctx: Any, reader: str) -> Any:
    """The resident takes the card from the counter's reader and places it again (the
    card powers up afresh: no PIN stays verified from the counter)."""
    card = ctx.readers.remove_software_card(reader)
    ctx.readers.insert_software_card(reader, card, label="carried")
    return card
