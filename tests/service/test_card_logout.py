"""A card left in the reader must not keep its verified PINs after a service operation:
real cards keep a successful VERIFY until power-down (real-card-notes §0), so the
service logs the card out itself. Checked with the card's own answer to a signature
by short key id (P2=97) after selecting the JPKI applet, which needs the auth PIN verified."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from jpki.digestinfo import digest_info
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.service.conftest import Session
from tests.service.test_login import issue, login

YAMADA = get_persona("yamada-taro")


def _sign_with_auth_key_sw(card) -> int:  # type: ignore[no-untyped-def]
    select_jpki = bytes.fromhex("00A4040C0AD392F000260100000001")
    assert card.process(select_jpki)[-2:] == b"\x90\x00"
    data = digest_info(hashlib.sha256(b"left behind?").digest(), "sha256")
    apdu = bytes([0x80, 0x2A, 0x00, 0x97, len(data)]) + data + b"\x00"
    response = card.process(apdu)
    return int.from_bytes(response[-2:], "big")


def test_no_verified_pin_survives_a_kiosk_login(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    assert issue(client, clerk, "0").status_code == 200
    response = login(client, kiosk, "0", YAMADA.pins.auth)
    assert response.status_code == 200, response.text
    # The login verified the auth PIN; afterwards the card answers as a card whose PIN
    # was never verified.
    assert _sign_with_auth_key_sw(card) == 0x6982
