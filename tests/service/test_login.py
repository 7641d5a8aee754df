"""Kiosk login end to end on software cards: real validation with the test PKI, the
SQLite registry and the symbol core."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.service.conftest import Session

YAMADA = get_persona("yamada-taro")


def issue(client: TestClient, clerk: Session, reader: str, persona=YAMADA, **extra):  # type: ignore[no-untyped-def]
    body = {
        "reader_id": reader,
        "resident_code": persona.resident_code,
        "auth_pin": persona.pins.auth,
        "sign_pin": persona.pins.sign,
        "face_to_face_confirmed": True,
        **extra,
    }
    return client.post("/api/issuance", json=body, headers=clerk.headers)


def login(client: TestClient, kiosk: Session, reader: str, pin: str, nonce: str | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, str] = {"pin": pin}
    if nonce is not None:
        body["nonce"] = nonce
    return client.post(f"/api/readers/{reader}/login", json=body, headers=kiosk.headers)


def test_login_after_issuance(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    issued = issue(client, clerk, "0")
    assert issued.status_code == 200, issued.text
    challenge = client.post("/api/auth/challenge", headers=kiosk.headers)
    assert challenge.status_code == 200
    assert challenge.json()["origin"] == wired.settings.portal_origin
    response = login(client, kiosk, "0", YAMADA.pins.auth, challenge.json()["nonce"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["serial"] == issued.json()["certificates"][0]["serial"]
    hint = body["portal_symbol_hint"]
    assert hint.startswith("********") and len(hint) == 12
    assert card.pin_remaining(PinKind.AUTH) == 3  # a good PIN resets nothing it should not


def test_login_without_a_nonce_issues_one(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("1")
    issued = issue(client, clerk, "1")
    assert issued.status_code == 200, issued.text
    response = login(client, kiosk, "1", YAMADA.pins.auth)
    assert response.status_code == 200, response.text
    # A full login on a nonce the service issued itself, not only an accepted request.
    assert response.json()["status"] == "ok"
    assert response.json()["serial"] == issued.json()["certificates"][0]["serial"]


def test_wrong_pin_reports_remaining_tries_then_blocks(
    client: TestClient, wired: ServiceContext, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    wrong = "9999" if YAMADA.pins.auth != "9999" else "8888"
    first = login(client, kiosk, "0", wrong)
    assert first.status_code == 422
    assert first.json()["error"] == {
        "code": "PIN_INCORRECT",
        "message": "the PIN is incorrect",
        "remaining": 2,
        "pin": "auth",
    }
    assert card.pin_remaining(PinKind.AUTH) == 2  # exactly one try spent
    assert login(client, kiosk, "0", wrong).json()["error"]["remaining"] == 1
    third = login(client, kiosk, "0", wrong)
    assert third.status_code == 423 and third.json()["error"]["code"] == "PIN_BLOCKED"
    # blocked: the correct PIN is not even sent
    again = login(client, kiosk, "0", YAMADA.pins.auth)
    assert again.status_code == 423 and again.json()["error"]["code"] == "PIN_BLOCKED"
    assert card.pin_remaining(PinKind.AUTH) == 0


def test_pin_format_spends_no_try(
    client: TestClient, wired: ServiceContext, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    for bad in ("12", "abcd", "123456"):
        response = login(client, kiosk, "0", bad)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "PIN_FORMAT"
        assert bad not in response.text
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_unlinked_card_is_refused(
    client: TestClient, wired: ServiceContext, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0", "sato-hanako")
    response = login(client, kiosk, "0", get_persona("sato-hanako").pins.auth)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_LINKED"


def test_replayed_and_foreign_challenges(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, sign_in, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    assert issue(client, clerk, "0").status_code == 200
    nonce = client.post("/api/auth/challenge", headers=kiosk.headers).json()["nonce"]
    assert login(client, kiosk, "0", YAMADA.pins.auth, nonce).status_code == 200
    replay = login(client, kiosk, "0", YAMADA.pins.auth, nonce)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "CHALLENGE_REPLAYED"
    other_kiosk = sign_in("kiosk1")  # another session of the same account
    foreign = client.post("/api/auth/challenge", headers=other_kiosk.headers).json()["nonce"]
    refused = login(client, kiosk, "0", YAMADA.pins.auth, foreign)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "CHALLENGE_NOT_FOUND"


def test_expired_challenge(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    insert_card("0")
    assert issue(client, clerk, "0").status_code == 200
    nonce = client.post("/api/auth/challenge", headers=kiosk.headers).json()["nonce"]
    real_clock = wired.clock
    shift = timedelta(seconds=wired.settings.challenge_ttl_seconds + 1)
    wired.clock = lambda: real_clock() + shift
    response = login(client, kiosk, "0", YAMADA.pins.auth, nonce)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "CHALLENGE_EXPIRED"


def test_revoked_certificate_is_refused(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, test_pki
) -> None:  # type: ignore[no-untyped-def]
    # A card of its own: revoking it must not touch the shared cards of other tests.
    persona = get_persona("suzuki-aoi")
    card = SoftwareCard.create(persona, test_pki)
    wired.readers.insert_software_card("2", card)
    issued = issue(client, clerk, "2", persona)
    assert issued.status_code == 200, issued.text
    serial = int(issued.json()["certificates"][0]["serial"])
    test_pki.revoke(serial, "loss")
    response = login(client, kiosk, "2", persona.pins.auth)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "CERT_REVOKED"


def test_login_roles(
    client: TestClient, wired: ServiceContext, officer: Session, kiosk: Session
) -> None:
    assert client.post("/api/auth/challenge").status_code == 401
    assert client.post("/api/auth/challenge", headers=officer.headers).status_code == 200
    assert client.post("/api/auth/challenge", headers=kiosk.headers).status_code == 200


def test_not_configured_parts_answer_not_available(
    client: TestClient, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    response = login(client, kiosk, "0", YAMADA.pins.auth)
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "NOT_AVAILABLE"


@pytest.mark.parametrize(
    "nonce",
    ["ノンス", "n" * 42 + "é", "a" * 10, "QUJD\u0000"],
    ids=["kana", "accent", "short", "nul"],
)
def test_a_bad_nonce_is_refused_before_the_pin_and_the_card(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card, nonce
) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 #5: a non-ASCII nonce raised UnicodeEncodeError (a 500) AFTER the PIN
    was verified and the card had signed. Now it is refused first: a 4xx, no PIN try."""
    card = insert_card("0")
    before = card.pin_remaining(PinKind.AUTH)
    response = login(client, kiosk, "0", "9999", nonce)  # a wrong PIN, had it been tried
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("VALIDATION_ERROR", "CHALLENGE_NOT_FOUND")
    assert card.pin_remaining(PinKind.AUTH) == before
