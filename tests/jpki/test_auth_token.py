"""Login tokens end to end: the software card signs, the real validator with the test
PKI checks. Every refusal is produced by actually tampering with a real token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from jpki.auth import (
    AuthTokenValidator,
    CertificateRevokedError,
    ChallengeExpiredError,
    ChallengeNotFoundError,
    ChallengeReplayedError,
    InMemoryChallengeStore,
    OriginMismatchError,
    RevocationUnknownError,
    SignatureInvalidError,
    TokenMalformedError,
    create_auth_token,
)
from jpki.auth.errors import CertificateExpiredError, CertificateUntrustedError
from jpki.constants import CertKind, KeyKind
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.jpki.test_auth_token_support import CardUnderTest, checker_for, open_card

ORIGIN = "https://portal.example.jp"
SESSION = "session-1"


class Kiosk:
    """The relying party: challenge store + validator, with an injectable clock."""

    def __init__(self, pki: TestPki, origin: str = ORIGIN) -> None:
        # A minute ahead: the card's certificate (issued just now) is surely valid.
        self.now = datetime.now(UTC) + timedelta(minutes=1)
        self.store = InMemoryChallengeStore(clock=lambda: self.now)
        self.checker, self.network = checker_for(pki)
        self.validator = AuthTokenValidator(
            self.checker, self.store, origin, clock=lambda: self.now
        )

    def challenge(self, origin: str = ORIGIN) -> str:
        return self.store.issue(SESSION, origin).nonce


@pytest.fixture
def kiosk(test_pki: TestPki) -> Kiosk:
    return Kiosk(test_pki)


@pytest.fixture
def card(software_card: SoftwareCard, persona: Persona) -> CardUnderTest:
    return open_card(software_card, persona)


def tamper(token_json: str, **fields: str) -> str:
    data = json.loads(token_json)
    data.update(fields)
    return json.dumps(data)


def test_valid_token_authenticates_with_serial_issuer_and_revocation_record(
    kiosk: Kiosk, card: CardUnderTest
) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    result = kiosk.validator.validate(token, SESSION, nonce)
    auth_cert = card.session.read_certificate(CertKind.AUTH)
    from cryptography import x509

    cert = x509.load_der_x509_certificate(auth_cert)
    assert result.serial == cert.serial_number
    assert (
        result.issuer_key_id
        == cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    )
    assert result.subject_cn and result.subject_cn in cert.subject.rfc4514_string()
    assert result.record.revocation_status == "good"
    assert result.record.revocation_source == "ocsp"
    assert result.record.checked_at == kiosk.now


def test_replaying_the_same_token_is_refused(kiosk: Kiosk, card: CardUnderTest) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    kiosk.validator.validate(token, SESSION, nonce)
    with pytest.raises(ChallengeReplayedError) as info:
        kiosk.validator.validate(token, SESSION, nonce)
    assert info.value.code == "CHALLENGE_REPLAYED"


def test_token_returned_after_the_challenge_expired_is_refused(
    kiosk: Kiosk, card: CardUnderTest
) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    kiosk.now += timedelta(minutes=5, seconds=1)
    with pytest.raises(ChallengeExpiredError) as info:
        kiosk.validator.validate(token, SESSION, nonce)
    assert info.value.code == "CHALLENGE_EXPIRED"


def test_unknown_challenge_and_other_session_are_refused(kiosk: Kiosk, card: CardUnderTest) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    with pytest.raises(ChallengeNotFoundError):
        kiosk.validator.validate(token, "someone-else", nonce)
    with pytest.raises(ChallengeNotFoundError) as info:
        kiosk.validator.validate(token, SESSION, "not-a-nonce")
    assert info.value.code == "CHALLENGE_NOT_FOUND"
    assert kiosk.validator.validate(token, SESSION, nonce).serial > 0  # the owner still can


def test_swapped_certificate_fails_the_signature_check(
    kiosk: Kiosk, card: CardUnderTest, card_templates: dict[str, SoftwareCard]
) -> None:
    other_card = card_templates["sato-hanako"].copy()
    other_cert = open_card(other_card, card.persona).session.read_certificate(CertKind.AUTH)
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    swapped = tamper(token, certificate=base64.b64encode(other_cert).decode())
    with pytest.raises(SignatureInvalidError) as info:
        kiosk.validator.validate(swapped, SESSION, nonce)
    assert info.value.code == "SIGNATURE_INVALID"


def test_flipped_signature_bit_fails(kiosk: Kiosk, card: CardUnderTest) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce)
    bad = bytearray(token.signature)
    bad[100] ^= 0x01
    forged = tamper(token.to_json(), signature=base64.b64encode(bytes(bad)).decode())
    with pytest.raises(SignatureInvalidError):
        kiosk.validator.validate(forged, SESSION, nonce)


def test_token_made_for_another_origin_fails_as_signature_invalid(
    kiosk: Kiosk, card: CardUnderTest
) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), "https://phish.example", nonce)
    with pytest.raises(SignatureInvalidError):
        kiosk.validator.validate(token.to_json(), SESSION, nonce)


def test_challenge_issued_for_another_origin_is_origin_mismatch(
    kiosk: Kiosk, card: CardUnderTest
) -> None:
    nonce = kiosk.challenge(origin="https://other-rp.example")
    token = create_auth_token(card.signer(KeyKind.AUTH), "https://other-rp.example", nonce)
    with pytest.raises(OriginMismatchError) as info:
        kiosk.validator.validate(token.to_json(), SESSION, nonce)
    assert info.value.code == "ORIGIN_MISMATCH"


def test_revoked_certificate_is_refused_hard_fail(
    kiosk: Kiosk, persona: Persona, test_pki: TestPki
) -> None:
    # A card of its own: the shared template cards must stay unrevoked for other tests.
    card = open_card(SoftwareCard.create(persona, test_pki), persona)
    signer = card.signer(KeyKind.AUTH)
    nonce = kiosk.challenge()
    kiosk.validator.validate(create_auth_token(signer, ORIGIN, nonce).to_json(), SESSION, nonce)
    from cryptography import x509

    serial = x509.load_der_x509_certificate(signer.certificate).serial_number
    test_pki.revoke(serial, "loss", at=datetime.now(UTC))
    nonce = kiosk.challenge()
    with pytest.raises(CertificateRevokedError) as info:
        kiosk.validator.validate(create_auth_token(signer, ORIGIN, nonce).to_json(), SESSION, nonce)
    assert info.value.code == "CERT_REVOKED"
    assert getattr(info.value.cause, "serial", None) == serial


def test_revocation_source_down_is_revocation_unknown(kiosk: Kiosk, card: CardUnderTest) -> None:
    kiosk.network.down = True
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    with pytest.raises(RevocationUnknownError) as info:
        kiosk.validator.validate(token, SESSION, nonce)
    assert info.value.code == "REVOCATION_UNKNOWN"


def test_expired_certificate_is_refused(kiosk: Kiosk, card: CardUnderTest) -> None:
    signer = card.signer(KeyKind.AUTH)
    from cryptography import x509

    not_after = x509.load_der_x509_certificate(signer.certificate).not_valid_after_utc
    kiosk.now = not_after + timedelta(days=1)
    nonce = kiosk.challenge()
    with pytest.raises(CertificateExpiredError) as info:
        kiosk.validator.validate(create_auth_token(signer, ORIGIN, nonce).to_json(), SESSION, nonce)
    assert info.value.code == "CERT_EXPIRED"


def test_sign_certificate_in_an_auth_token_is_refused(kiosk: Kiosk, card: CardUnderTest) -> None:
    signer = card.signer(KeyKind.SIGN)  # a real signature by the card's other key
    nonce = kiosk.challenge()
    with pytest.raises(CertificateUntrustedError) as info:
        kiosk.validator.validate(create_auth_token(signer, ORIGIN, nonce).to_json(), SESSION, nonce)
    assert info.value.code == "CERT_UNTRUSTED"


def test_garbage_certificate_is_token_malformed(kiosk: Kiosk, card: CardUnderTest) -> None:
    nonce = kiosk.challenge()
    token = create_auth_token(card.signer(KeyKind.AUTH), ORIGIN, nonce).to_json()
    broken = tamper(token, certificate=base64.b64encode(b"\x30\x03\x02\x01\x05").decode())
    with pytest.raises(TokenMalformedError):
        kiosk.validator.validate(broken, SESSION, nonce)


@pytest.mark.parametrize("sources", [("ocsp",), ("crl",)])
def test_each_revocation_source_alone_refuses_a_revoked_certificate(
    sources: tuple[str, ...], persona: Persona, test_pki: TestPki
) -> None:
    card = open_card(SoftwareCard.create(persona, test_pki), persona)
    signer = card.signer(KeyKind.AUTH)
    from cryptography import x509

    serial = x509.load_der_x509_certificate(signer.certificate).serial_number
    test_pki.revoke(serial, "death", at=datetime.now(UTC))
    kiosk = Kiosk(test_pki)
    kiosk.checker, kiosk.network = checker_for(test_pki, sources=sources)  # type: ignore[arg-type]
    kiosk.validator.checker = kiosk.checker
    nonce = kiosk.challenge()
    with pytest.raises(CertificateRevokedError) as info:
        kiosk.validator.validate(create_auth_token(signer, ORIGIN, nonce).to_json(), SESSION, nonce)
    assert info.value.cause.source == sources[0]  # type: ignore[union-attr]
    used = kiosk.network.ocsp_posts if sources == ("ocsp",) else kiosk.network.crl_fetches
    assert used == 1
