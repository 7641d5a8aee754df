"""Counter operations end to end: issuance, renewal, revocation, persons and the audited
My Number reveal, the audit trail, signatures and certificate validation."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import get_persona
from terminal.service.context import ServiceContext
from tests.service.conftest import Session
from tests.service.test_login import YAMADA, issue, login


def test_issuance_links_both_certificates(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    response = issue(client, clerk, "0", cardinfo_pin=YAMADA.pins.cardinfo)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["kind"] for c in body["certificates"]] == ["auth", "sign"]
    assert body["person_created"] is True and len(body["person_id"]) == 15
    assert body["my_number"] == YAMADA.my_number.masked  # the clerk sees it masked
    assert YAMADA.my_number.reveal() not in response.text
    assert body["portal_symbol_hint"].startswith("********")
    for kind in PinKind:
        assert card.pin_remaining(kind) == kind.max_tries
    again = issue(client, clerk, "0")
    assert again.status_code == 409 and again.json()["error"]["code"] == "LINK_CONFLICT"


def test_issuance_is_replay_safe_with_a_request_id(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    first = issue(client, clerk, "0", request_id="req-000000001")
    second = issue(client, clerk, "0", request_id="req-000000001")
    assert first.status_code == second.status_code == 200
    assert second.json()["replayed"] is True
    assert second.json()["person_id"] == first.json()["person_id"]


def test_issuance_input_errors(
    client: TestClient, wired: ServiceContext, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    bad_sign = issue(client, clerk, "0", sign_pin="ab")
    assert bad_sign.status_code == 422 and bad_sign.json()["error"]["code"] == "PIN_FORMAT"
    assert bad_sign.json()["error"]["pin"] == "sign"
    bad_code = issue(client, clerk, "0", resident_code="12")
    assert bad_code.status_code == 422 and bad_code.json()["error"]["code"] == "VALIDATION_ERROR"
    wrong_sign = issue(client, clerk, "0", sign_pin="WRONGPIN1")
    assert wrong_sign.json()["error"] == {
        "code": "PIN_INCORRECT",
        "message": "the PIN is incorrect",
        "remaining": 4,
        "pin": "sign",  # the form has four PINs: the error names the one concerned
    }
    assert card.pin_remaining(PinKind.SIGN) == 4 and card.pin_remaining(PinKind.AUTH) == 3
    no_card = issue(client, clerk, "1")
    assert no_card.status_code == 409 and no_card.json()["error"]["code"] == "NO_CARD"


def test_kiosk_cannot_issue_and_clerk_cannot_reveal(
    client: TestClient, wired: ServiceContext, kiosk: Session, clerk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    refused = issue(client, kiosk, "0")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    issued = issue(client, clerk, "0", cardinfo_pin=YAMADA.pins.cardinfo).json()
    person = issued["person_id"]
    reveal = client.post(
        f"/api/persons/{person}/reveal",
        json={"reader_id": "0", "cardinfo_pin": YAMADA.pins.cardinfo},
        headers=clerk.headers,
    )
    assert reveal.status_code == 403 and reveal.json()["error"]["code"] == "FORBIDDEN"
    # Well-formed bodies, so that only the role check can refuse them (a 422 for a bad
    # body would hide a kiosk that is allowed through).
    serial = issued["certificates"][0]["serial"]
    well_formed = {
        "/api/revocation": {"serial": serial, "reason": "loss"},
        "/api/renewal": {
            "reader_id": "0",
            "old_auth_serial": serial,
            "auth_pin": YAMADA.pins.auth,
            "sign_pin": YAMADA.pins.sign,
            "face_to_face_confirmed": True,
        },
    }
    for path, body in well_formed.items():
        refused = client.post(path, json=body, headers=kiosk.headers)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert client.get(f"/api/persons/{person}", headers=kiosk.headers).status_code == 403
    # The same revocation body is accepted from a clerk: it was refused for the role only.
    allowed = client.post(
        "/api/revocation", json=well_formed["/api/revocation"], headers=clerk.headers
    )
    assert allowed.status_code == 200, allowed.text
    assert client.get("/api/audit", headers=clerk.headers).status_code == 403


def test_officer_reveal_is_audited(
    client: TestClient,
    wired: ServiceContext,
    clerk: Session,
    officer: Session,
    admin: Session,
    insert_card,
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    person = issue(client, clerk, "0", cardinfo_pin=YAMADA.pins.cardinfo).json()["person_id"]
    looked_up = client.get(f"/api/persons/{person}", headers=clerk.headers)
    assert looked_up.status_code == 200
    assert looked_up.json()["has_mynumber_index"] is True
    assert all(v.startswith("********") for v in looked_up.json()["symbols"].values())
    before = client.get("/api/audit?limit=1000", headers=admin.headers).json()
    reveal = client.post(
        f"/api/persons/{person}/reveal",
        json={"reader_id": "0", "cardinfo_pin": YAMADA.pins.cardinfo},
        headers=officer.headers,
    )
    assert reveal.status_code == 200, reveal.text
    assert reveal.json() == {"my_number": YAMADA.my_number.reveal(), "masked": False}
    after = client.get("/api/audit?limit=1000", headers=admin.headers).json()
    new = after[len(before) :]
    views = [e for e in new if e["operation"] == "mynumber.view"]
    assert len(views) == 1
    assert views[0]["operator_id"] == "officer1" and views[0]["subject_ref"] == person
    assert all(YAMADA.my_number.reveal() not in str(e) for e in after)
    # another person's card does not reveal this person
    insert_card("1", "sato-hanako")
    other = client.post(
        f"/api/persons/{person}/reveal",
        json={"reader_id": "1", "cardinfo_pin": get_persona("sato-hanako").pins.cardinfo},
        headers=officer.headers,
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "UNKNOWN_PERSON"
    missing = client.get("/api/persons/999999999999999", headers=clerk.headers)
    assert missing.status_code == 404


def test_card_my_number_is_masked_even_for_officers(
    client: TestClient, wired: ServiceContext, officer: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    response = client.post(
        "/api/readers/0/mynumber", json={"pin": YAMADA.pins.cardinfo}, headers=officer.headers
    )
    assert response.json() == {"my_number": YAMADA.my_number.masked, "masked": True}


def test_renewal_chains_and_old_card_stops_logging_in(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card, test_pki
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    old = issue(client, clerk, "0").json()
    old_auth = old["certificates"][0]["serial"]
    renewed_card = SoftwareCard.create(YAMADA, test_pki)
    wired.readers.insert_software_card("1", renewed_card)
    response = client.post(
        "/api/renewal",
        json={
            "reader_id": "1",
            "old_auth_serial": old_auth,
            "auth_pin": YAMADA.pins.auth,
            "sign_pin": YAMADA.pins.sign,
            "face_to_face_confirmed": True,
        },
        headers=clerk.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person_id"] == old["person_id"]
    assert body["replaces"][0]["serial"] == old_auth
    assert login(client, kiosk, "1", YAMADA.pins.auth).status_code == 200
    stale = login(client, kiosk, "0", YAMADA.pins.auth)
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "CERT_REVOKED"


def test_revocation_cuts_the_link(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    serial = issue(client, clerk, "0").json()["certificates"][0]["serial"]
    response = client.post(
        "/api/revocation", json={"serial": serial, "reason": "loss"}, headers=clerk.headers
    )
    assert response.status_code == 200, response.text
    assert serial in response.json()["revoked"] and len(response.json()["revoked"]) == 2
    refused = login(client, kiosk, "0", YAMADA.pins.auth)
    assert refused.json()["error"]["code"] == "CERT_REVOKED"
    unknown = client.post(
        "/api/revocation", json={"serial": "12345", "reason": "loss"}, headers=clerk.headers
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "UNKNOWN_SERIAL"
    bad_reason = client.post(
        "/api/revocation", json={"serial": serial, "reason": "bored"}, headers=clerk.headers
    )
    assert bad_reason.status_code == 422
    assert bad_reason.json()["error"]["code"] == "VALIDATION_ERROR"


def test_audit_trail_verifies(
    client: TestClient,
    wired: ServiceContext,
    clerk: Session,
    kiosk: Session,
    admin: Session,
    insert_card,
) -> None:  # type: ignore[no-untyped-def]
    insert_card("0")
    issue(client, clerk, "0")
    login(client, kiosk, "0", YAMADA.pins.auth)
    entries = client.get("/api/audit", headers=admin.headers).json()
    operations = [e["operation"] for e in entries]
    assert "linkage.issue" in operations and "linkage.login_resolve" in operations
    report = client.get("/api/audit/verify", headers=admin.headers)
    assert report.status_code == 200 and report.json()["ok"] is True


def test_sign_and_verify(
    client: TestClient, wired: ServiceContext, clerk: Session, kiosk: Session, insert_card
) -> None:  # type: ignore[no-untyped-def]
    card = insert_card("0")
    document = "申請書 / application form".encode()
    content = base64.b64encode(document).decode()
    signed = client.post(
        "/api/readers/0/sign",
        json={"pin": YAMADA.pins.sign, "content": content},
        headers=clerk.headers,
    )
    assert signed.status_code == 200, signed.text
    assert card.pin_remaining(PinKind.SIGN) == 5
    signature = signed.json()["signature"]
    verified = client.post(
        "/api/verify", json={"content": content, "signature": signature}, headers=kiosk.headers
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
    tampered = base64.b64encode(document + b"!").decode()
    refused = client.post(
        "/api/verify", json={"content": tampered, "signature": signature}, headers=kiosk.headers
    )
    assert refused.status_code == 422
    # Changed content: the digest no longer matches (any CMS_ code would hide a verifier
    # that refuses for some other reason).
    assert refused.json()["error"]["code"] == "CMS_DIGEST_MISMATCH"
    garbage = client.post(
        "/api/verify", json={"content": content, "signature": "not base64!"}, headers=kiosk.headers
    )
    assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "VALIDATION_ERROR"


def test_certificate_validation_codes(
    client: TestClient, wired: ServiceContext, kiosk: Session, card_templates, test_pki
) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    card = card_templates["yamada-taro"]
    auth_der = card._certificate(0x000A)  # the card's auth certificate EF content
    cert = x509.load_der_x509_certificate(auth_der, backend=None) if auth_der[0] == 0x30 else None
    assert cert is not None
    der = cert.public_bytes(Encoding.DER)
    good = client.post(
        "/api/certificates/validate",
        json={"certificate": base64.b64encode(der).decode(), "kind": "auth"},
        headers=kiosk.headers,
    )
    assert good.status_code == 200, good.text
    assert good.json()["serial"] == str(cert.serial_number)
    later = (datetime.now(UTC) + timedelta(days=365 * 20)).isoformat()
    expired = client.post(
        "/api/certificates/validate",
        json={"certificate": base64.b64encode(der).decode(), "kind": "auth", "at": later},
        headers=kiosk.headers,
    )
    assert expired.status_code == 422 and expired.json()["error"]["code"] == "CERT_EXPIRED"
    assert "not_after" in expired.json()["error"]
    wrong_kind = client.post(
        "/api/certificates/validate",
        json={"certificate": base64.b64encode(der).decode(), "kind": "sign"},
        headers=kiosk.headers,
    )
    assert wrong_kind.json()["error"]["code"] == "CERT_UNTRUSTED"
    junk = client.post(
        "/api/certificates/validate",
        json={"certificate": base64.b64encode(b"\x30\x03abc").decode(), "kind": "auth"},
        headers=kiosk.headers,
    )
    assert junk.status_code == 422 and junk.json()["error"]["code"] == "CERT_MALFORMED"
