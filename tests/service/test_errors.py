"""Error mapping: each failure has a stable code and status; nothing unexpected leaks."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from card import errors as card_errors
from jpki.errors import NotAMyNumberCardError, PinFormatError
from jpki.validation import RevocationUnknownError
from terminal.service import Settings, create_app
from terminal.service.context import ServiceContext
from terminal.service.errors import STATUS, to_service_error
from tests.service.conftest import BASE_URL, ORIGIN, TEST_SECRET, Session


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (card_errors.InvalidPinError(b"", 0x63C2), "PIN_INCORRECT", 422),
        (card_errors.InvalidPinError(b"", 0x63C0), "PIN_BLOCKED", 423),
        (card_errors.PinBlockedError(b"", 0x6983), "PIN_BLOCKED", 423),
        (PinFormatError("the auth PIN is exactly 4 digits"), "PIN_FORMAT", 422),
        (card_errors.CardRemovedError("gone"), "CARD_REMOVED", 409),
        (card_errors.NoCardError("empty"), "NO_CARD", 409),
        (card_errors.NoReaderError("none"), "NO_READER", 404),
        (card_errors.ReaderBusyError("busy"), "READER_BUSY", 409),
        (card_errors.PcscUnavailableError("down"), "PCSC_UNAVAILABLE", 503),
        (NotAMyNumberCardError("no JPKI applet"), "NOT_A_MYNUMBER_CARD", 422),
        (card_errors.MalformedResponseError("short"), "MALFORMED_CARD_RESPONSE", 502),
        (RevocationUnknownError(serial=5, reasons=[("ocsp", "down")]), "REVOCATION_UNKNOWN", 503),
    ],
)
def test_mapping(error: Exception, code: str, status: int) -> None:
    mapped = to_service_error(error)
    assert mapped is not None
    assert (mapped.code, mapped.status) == (code, status)
    assert STATUS[code] == status


def test_pin_incorrect_carries_remaining_tries() -> None:
    mapped = to_service_error(card_errors.InvalidPinError(b"", 0x63C1))
    assert mapped is not None and mapped.body()["error"]["remaining"] == 1


def test_unexpected_errors_are_500_without_details(operator_accounts) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        session_secret=TEST_SECRET, trust="jpki-production", operators=operator_accounts
    )
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_unknown_paths_and_methods(client: TestClient) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = client.put("/api/readers", headers={"Origin": ORIGIN})
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


class ForeignCard:
    """A card without the JPKI applet: every SELECT answers 6A82."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        return b"", 0x6A82


class ForeignSlot:
    kind = "software"

    def card_present(self) -> bool:
        return True

    def connect(self) -> ForeignCard:
        return ForeignCard()

    def disconnect(self, connection: object) -> None:
        pass


def test_not_a_mynumber_card(client: TestClient, ctx: ServiceContext, kiosk: Session) -> None:
    reader = ctx.readers.add("Library card reader", ForeignSlot())  # type: ignore[arg-type]
    response = client.get(f"/api/readers/{reader.id}/card", headers=kiosk.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "NOT_A_MYNUMBER_CARD"


class RevocationDown:
    def check(self, cert, issuer, *, at):  # type: ignore[no-untyped-def]
        raise RevocationUnknownError(
            serial=cert.serial_number, reasons=[("ocsp", "connection refused"), ("crl", "timeout")]
        )


def test_revocation_unknown_fails_closed(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    from simulators.personas import get_persona

    persona = get_persona("yamada-taro")
    insert_card("0")
    issued = client.post(
        "/api/issuance",
        json={
            "reader_id": "0",
            "resident_code": persona.resident_code,
            "auth_pin": persona.pins.auth,
            "sign_pin": persona.pins.sign,
            "face_to_face_confirmed": True,
        },
        headers=clerk.headers,
    )
    assert issued.status_code == 200
    wired.validator.revocation = RevocationDown()  # type: ignore[union-attr]
    response = client.post(
        "/api/readers/0/login", json={"pin": persona.pins.auth}, headers=kiosk.headers
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "REVOCATION_UNKNOWN"
