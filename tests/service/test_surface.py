"""The counter's card-face read: POST /api/readers/{id}/surface with 照合番号A or B,
audited, behind the clerk and officer roles."""

from __future__ import annotations

import base64
import io

from fastapi.testclient import TestClient
from PIL import Image

from jpki.constants import PinKind
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.service.conftest import Session

YAMADA = get_persona("yamada-taro")


def read(client: TestClient, who: Session, reader: str, credential: str, code: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/readers/{reader}/surface",
        json={"credential": credential, "code": code},
        headers=who.headers,
    )


def audit_reads(client: TestClient, admin: Session) -> list[dict[str, str]]:
    entries = client.get("/api/audit?limit=1000", headers=admin.headers).json()
    return [e for e in entries if e["operation"] == "card_surface.read"]


def test_surface_read_returns_a_valid_face_and_is_audited(
    client: TestClient, wired: ServiceContext, clerk: Session, admin: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    response = read(client, clerk, "0", "B", YAMADA.code_b)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["signature"] == "valid" and body["issuer"] == "6000023/001"
    assert body["birth_date"] == YAMADA.birth_date.isoformat()
    prefix = "data:image/png;base64,"
    assert body["photo_png"].startswith(prefix)
    photo = Image.open(io.BytesIO(base64.b64decode(body["photo_png"][len(prefix) :])))
    assert photo.size == (body["photo_width"], body["photo_height"]) and photo.mode == "L"
    assert YAMADA.code_b not in response.text and YAMADA.my_number.reveal() not in response.text
    reads = audit_reads(client, admin)
    assert [(e["operator_id"], e["result"]) for e in reads] == [("clerk1", "shown:valid")]
    assert all(YAMADA.code_b not in str(e) for e in reads)


def test_surface_read_refusals(
    client: TestClient,
    wired: ServiceContext,
    clerk: Session,
    officer: Session,
    kiosk: Session,
    admin: Session,
    insert_card,
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    assert read(client, kiosk, "0", "A", YAMADA.my_number.reveal()).status_code == 403
    bad = read(client, clerk, "0", "A", "123")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "PIN_FORMAT"
    assert card.pin_remaining(PinKind.SURFACE_CODE_A) == 10  # nothing reached the card
    wrong = YAMADA.code_b[:-4] + "0000"
    refused = read(client, officer, "0", "B", wrong)
    assert refused.json()["error"] == {
        "code": "PIN_INCORRECT",
        "message": "the PIN is incorrect",
        "remaining": 9,
    }
    assert card.pin_remaining(PinKind.SURFACE_CODE_B) == 9
    ok = read(client, officer, "0", "A", YAMADA.my_number.reveal())
    assert ok.status_code == 200, ok.text
    results = [e["result"] for e in audit_reads(client, admin)]
    assert results == ["refused:PIN_INCORRECT", "shown:valid"]


def test_without_issuer_keys_the_face_is_not_checked(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    wired.card_issuer_keys = {}
    body = read(client, clerk, "0", "B", YAMADA.code_b).json()
    assert body["signature"] == "not-checked" and body["issuer"] is None


def test_a_face_signed_by_an_untrusted_issuer_is_refused(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    surface_root, text_root = sorted(wired.card_issuer_keys)  # 6000023, 6000033
    wired.card_issuer_keys = {surface_root: wired.card_issuer_keys[text_root]}
    response = read(client, clerk, "0", "B", YAMADA.code_b)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "CARD_SIGNATURE_INVALID"
    assert "photo_png" not in response.text
