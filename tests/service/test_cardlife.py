"""The card's life at the counter through the HTTP API (clerks only): PIN setting on a
new card, PIN reset after a lock at the kiosk, renewal on the same card with the kiosk
login resolving to the same portal symbol, and the refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import get_persona
from terminal.dev.issuer import TestPkiAuthority
from terminal.service.context import ServiceContext
from tests.service.conftest import Session
from tests.service.test_login import issue, login

HANAKO = get_persona("sato-hanako")


def twice(pin: str) -> dict[str, str]:
    return {"pin": pin, "again": pin}


def with_issuer(ctx: ServiceContext, test_pki) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(ctx.issuer, TestPkiAuthority)  # the `wired` fixture attaches it


def test_set_pins_on_a_new_card_then_issue_and_log_in(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, test_pki
) -> None:  # type: ignore[no-untyped-def]
    with_issuer(wired, test_pki)
    card = SoftwareCard.create(HANAKO, test_pki, unset_pins=True)
    wired.readers.insert_software_card("0", card, label="new card")
    body = {
        "reader_id": "0",
        "resident_code": HANAKO.resident_code,
        "face_to_face_confirmed": True,
        "auth": twice("4242"),
        "sign": twice("NEWSIGN42"),
        "cardinfo": twice("4242"),
    }
    unconfirmed = client.post(
        "/api/counter/pins", json={**body, "face_to_face_confirmed": False}, headers=clerk.headers
    )
    assert unconfirmed.json()["error"]["code"] == "FACE_TO_FACE_REQUIRED"
    differ = client.post(
        "/api/counter/pins",
        json={**body, "auth": {"pin": "4242", "again": "4243"}},
        headers=clerk.headers,
    )
    assert differ.status_code == 422 and differ.json()["error"]["code"] == "PIN_MISMATCH"
    assert not card.pin_is_set(PinKind.AUTH)
    denied = client.post("/api/counter/pins", json=body, headers=kiosk.headers)
    assert denied.status_code == 403
    done = client.post("/api/counter/pins", json=body, headers=clerk.headers)
    assert done.status_code == 200, done.text
    assert done.json()["set"] == ["auth", "sign", "cardinfo"]
    assert "4242" not in done.text
    issued = issue(client, clerk, "0", persona=HANAKO, auth_pin="4242", sign_pin="NEWSIGN42")
    assert issued.status_code == 200, issued.text
    assert login(client, kiosk, "0", "4242").status_code == 200


def test_lock_at_the_kiosk_reset_at_the_counter(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, test_pki, insert_card
) -> None:  # type: ignore[no-untyped-def]
    with_issuer(wired, test_pki)
    persona = get_persona("yamada-taro")
    card = insert_card("0")
    assert issue(client, clerk, "0").status_code == 200
    symbol = login(client, kiosk, "0", persona.pins.auth).json()
    for _ in range(3):
        login(client, kiosk, "0", "0000")
    blocked = login(client, kiosk, "0", persona.pins.auth)
    assert blocked.json()["error"]["code"] == "PIN_BLOCKED"
    reset = client.post(
        "/api/counter/pin-reset",
        json={
            "reader_id": "0",
            "resident_code": persona.resident_code,
            "face_to_face_confirmed": True,
            "kind": "auth",
            "new_pin": twice("9753"),
        },
        headers=clerk.headers,
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["tries_left"] == 3 and card.pin_remaining(PinKind.AUTH) == 3
    after = login(client, kiosk, "0", "9753")
    assert after.status_code == 200
    assert after.json()["portal_symbol_hint"] == symbol["portal_symbol_hint"]


def test_renew_on_the_same_card_keeps_the_portal_symbol(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, test_pki
) -> None:  # type: ignore[no-untyped-def]
    with_issuer(wired, test_pki)
    card = SoftwareCard.create(HANAKO, test_pki)  # its own card: the renewal revokes
    wired.readers.insert_software_card("1", card, label="hanako")
    assert issue(client, clerk, "1", persona=HANAKO).status_code == 200
    first = login(client, kiosk, "1", HANAKO.pins.auth).json()
    request = {
        "reader_id": "1",
        "resident_code": get_persona("yamada-taro").resident_code,
        "face_to_face_confirmed": True,
    }
    wrong = client.post("/api/counter/renew-on-card", json=request, headers=clerk.headers)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "IDENTITY_MISMATCH"
    request["resident_code"] = HANAKO.resident_code
    renewed = client.post("/api/counter/renew-on-card", json=request, headers=clerk.headers)
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["new_auth_serial"] != body["old_auth_serial"]
    assert body["new_sign_serial"] != body["old_sign_serial"]
    again = login(client, kiosk, "1", HANAKO.pins.auth).json()
    assert again["portal_symbol_hint"] == first["portal_symbol_hint"]
    assert again["serial"] == body["new_auth_serial"] != first["serial"]
    assert test_pki.status(int(body["old_auth_serial"])).state == "revoked"
    reconciled = client.post(
        "/api/counter/reconcile", json={"reader_id": "1"}, headers=clerk.headers
    )
    assert reconciled.status_code == 200 and reconciled.json()["changed"] is False


def test_without_an_issuing_authority_the_routes_say_not_available(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    wired.issuer = None
    insert_card("0")
    response = client.post("/api/counter/reconcile", json={"reader_id": "0"}, headers=clerk.headers)
    assert response.status_code == 501 and response.json()["error"]["code"] == "NOT_AVAILABLE"


def test_renew_on_the_card_with_the_holders_pins_runs_the_register_match(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, test_pki
) -> None:  # type: ignore[no-untyped-def]
    card = SoftwareCard.create(HANAKO, test_pki)  # its own card: the renewal revokes
    wired.readers.insert_software_card("1", card, label="hanako")
    assert issue(client, clerk, "1", persona=HANAKO).status_code == 200
    request = {
        "reader_id": "1",
        "resident_code": HANAKO.resident_code,
        "face_to_face_confirmed": True,
        "sign": False,
        "auth_pin": HANAKO.pins.auth,
    }
    no_facts = client.post("/api/counter/renew-on-card", json=request, headers=clerk.headers)
    assert no_facts.json()["error"]["code"] == "IDENTITY_FACTS_REQUIRED"
    request["sign_pin"] = HANAKO.pins.sign
    renewed = client.post("/api/counter/renew-on-card", json=request, headers=clerk.headers)
    assert renewed.status_code == 200, renewed.text
    assert HANAKO.pins.auth not in renewed.text
    checks = [e for e in wired.audit.list(limit=1000) if e.operation == "counter.identity_check"]  # type: ignore[union-attr]
    assert checks and checks[-1].result == "match:face_to_face"
    assert card.pin_remaining(PinKind.AUTH) == 3
