"""GET /api/readers/{id}/kiosk-check: the kiosk refuses a card before the PIN pad opens,
reading only what costs no PIN try (SELECT, certificate, PIN status, registry,
revocation). Every refusal is checked with the card's PIN counters untouched."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from card.errors import InvalidPinError, PinBlockedError
from card.protocol import CardChannel
from jpki.constants import PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCardConnection
from terminal.service.context import ServiceContext
from tests.browser.kiosk_helpers import ForeignCard
from tests.service.conftest import Session
from tests.service.test_login import YAMADA, issue

URL = "/api/readers/0/kiosk-check"


def reseat(ctx: ServiceContext, reader: str) -> Any:
    card = ctx.readers.remove_software_card(reader)
    ctx.readers.insert_software_card(reader, card)
    return card


def test_a_linked_card_is_ready_and_nothing_is_spent(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card: Any
) -> None:
    insert_card("0")
    assert issue(client, clerk, "0").status_code == 200
    card = reseat(wired, "0")
    response = client.get(URL, headers=kiosk.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "ready": True,
        "card_serial": wired.readers.get("0").card_serial,
        "remaining": 3,
        "max_tries": 3,
    }
    assert card.pin_remaining(PinKind.AUTH) == 3
    # The answer names the insertion; asking for another one is refused.
    stale = client.get(URL, params={"card_serial": body["card_serial"] - 1}, headers=kiosk.headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "CARD_REMOVED"


def test_refusals_before_any_pin(
    client: TestClient,
    wired: ServiceContext,
    clerk: Session,
    kiosk: Session,
    insert_card: Any,
    card_templates: Any,
) -> None:
    def code_for(card: Any) -> str:
        wired.readers.insert_software_card("0", card)
        response = client.get(URL, headers=kiosk.headers)
        assert response.status_code >= 400
        return str(response.json()["error"]["code"])

    assert code_for(ForeignCard()) == "NOT_A_MYNUMBER_CARD"
    unregistered = card_templates["sato-hanako"].copy()
    assert code_for(unregistered) == "NOT_LINKED"
    assert unregistered.pin_remaining(PinKind.AUTH) == 3

    revoked = insert_card("1")
    issued = issue(client, clerk, "1").json()
    serial = issued["certificates"][0]["serial"]
    answer = client.post(
        "/api/revocation", json={"serial": serial, "reason": "loss"}, headers=clerk.headers
    )
    assert answer.status_code == 200
    wired.readers.remove_software_card("1")
    assert code_for(revoked) == "CERT_REVOKED"
    assert revoked.pin_remaining(PinKind.AUTH) == 3

    locked = card_templates["yamada-taro"].copy()
    jpki = JpkiSession(CardChannel(SoftwareCardConnection(locked)))
    for _ in range(3):
        with pytest.raises((InvalidPinError, PinBlockedError)):
            jpki.verify_pin(PinKind.AUTH, "9999" if YAMADA.pins.auth != "9999" else "8888")
    wired.readers.insert_software_card("0", locked)
    response = client.get(URL, headers=kiosk.headers)
    assert response.status_code == 423
    assert response.json()["error"] == {
        "code": "PIN_BLOCKED",
        "message": "the auth PIN is blocked",
        "remaining": 0,
        "pin": "auth",
    }


def test_no_card_and_roles(client: TestClient, wired: ServiceContext, admin: Session) -> None:
    response = client.get(URL, headers=admin.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "NO_CARD"
    assert client.get(URL).status_code == 401
