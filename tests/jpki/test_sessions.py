"""The JPKI and card-info applet sessions against the software card, over every
transport (in process, and pyscard -> pcscd -> vpcd -> the same card)."""

from __future__ import annotations

import hashlib
import math

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from card.errors import (
    InvalidPinError,
    PinBlockedError,
    SecurityStatusNotSatisfiedError,
)
from card.protocol import CardChannel
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.errors import DigestError, NotAMyNumberCardError, PinFormatError
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.personas import Persona


class Recorder:
    """Wraps a connection and keeps every raw command sent, to count and inspect."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.extended_length = getattr(inner, "extended_length", False)
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        return self.inner.transmit(apdu)  # type: ignore[attr-defined,no-any-return]

    def verifies_with_data(self) -> int:
        return sum(1 for a in self.sent if a[1] == 0x20 and len(a) > 5)


def recorded(channel: CardChannel) -> Recorder:
    recorder = Recorder(channel.connection)
    channel.connection = recorder
    return recorder


def public_key_of(der: bytes):  # type: ignore[no-untyped-def]
    return x509.load_der_x509_certificate(der).public_key()


def test_token_info(channel: CardChannel) -> None:
    assert JpkiSession(channel).token_info() == "JPKIAPICCTOKEN2"


@pytest.mark.parametrize("kind", [CertKind.AUTH, CertKind.AUTH_CA, CertKind.SIGN_CA])
def test_free_certificates_match_the_card(
    channel: CardChannel, software_card: SoftwareCard, kind: CertKind
) -> None:
    expected = {
        CertKind.AUTH: software_card.auth_certificate,
        CertKind.AUTH_CA: software_card.auth_ca_certificate,
        CertKind.SIGN_CA: software_card.sign_ca_certificate,
    }[kind]
    assert JpkiSession(channel).read_certificate(kind) == expected


def test_certificate_read_apdu_counts(channel: CardChannel, software_card: SoftwareCard) -> None:
    session = JpkiSession(channel)
    length = len(software_card.auth_certificate)
    before = channel.apdu_count
    session.read_certificate(CertKind.AUTH)
    if channel.extended_length:
        assert channel.apdu_count - before == 2  # SELECT EF + one extended READ BINARY
    channel.extended_length = False
    before = channel.apdu_count
    assert session.read_certificate(CertKind.AUTH) == software_card.auth_certificate
    # SELECT EF + ceil(len/256) short READ BINARYs: the first read also carries the header
    assert channel.apdu_count - before == 1 + math.ceil(length / 256)


def test_sign_certificate_needs_the_sign_pin(
    channel: CardChannel, software_card: SoftwareCard, persona: Persona
) -> None:
    session = JpkiSession(channel)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_certificate(CertKind.SIGN)
    session.verify_pin(PinKind.SIGN, persona.pins.sign.lower())  # clients upper-case
    assert session.read_certificate(CertKind.SIGN) == software_card.sign_certificate


def test_pin_status_spends_nothing(channel: CardChannel, software_card: SoftwareCard) -> None:
    session = JpkiSession(channel)
    for _ in range(5):
        auth = session.pin_status(PinKind.AUTH)
        sign = session.pin_status(PinKind.SIGN)
    assert (auth.remaining, auth.blocked, auth.verified) == (3, False, False)
    assert (sign.remaining, sign.max_tries) == (5, 5)
    assert software_card.pin_remaining(PinKind.AUTH) == 3
    assert CardInfoSession(channel).pin_status().remaining == 3


def test_status_after_verify_is_verified(channel: CardChannel, persona: Persona) -> None:
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    status = session.pin_status(PinKind.AUTH)
    assert status.verified and not status.blocked


def test_exact_auth_lockout_sequence(channel: CardChannel, persona: Persona) -> None:
    recorder = recorded(channel)
    session = JpkiSession(channel)
    wrong = "0000" if persona.pins.auth != "0000" else "1111"
    for expected_left in (2, 1):
        with pytest.raises(InvalidPinError) as caught:
            session.verify_pin(PinKind.AUTH, wrong)
        assert caught.value.remaining == expected_left and caught.value.sw == 0x63C0 | expected_left
    with pytest.raises(PinBlockedError) as blocked:
        session.verify_pin(PinKind.AUTH, wrong)
    assert blocked.value.sw == 0x63C0  # the exhausting try
    assert recorder.verifies_with_data() == 3
    # Blocked: reported from the status, the PIN is not sent again (even the right one).
    with pytest.raises(PinBlockedError):
        session.verify_pin(PinKind.AUTH, persona.pins.auth)
    assert recorder.verifies_with_data() == 3
    assert session.pin_status(PinKind.AUTH).blocked
    # Even when the caller skips the status check, the card answers 6984, not 63Cx.
    with pytest.raises(PinBlockedError) as late:
        session.verify_pin(PinKind.AUTH, persona.pins.auth, check_status_first=False)
    assert late.value.sw in (0x6984, 0x6983)


def test_sign_pin_has_five_tries_and_right_pin_resets(
    channel: CardChannel, persona: Persona
) -> None:
    session = JpkiSession(channel)
    for expected_left in (4, 3):
        with pytest.raises(InvalidPinError) as caught:
            session.verify_pin(PinKind.SIGN, "WRONG123")
        assert caught.value.remaining == expected_left
    session.verify_pin(PinKind.SIGN, persona.pins.sign)
    session.logout()  # the counter stays reset
    assert session.pin_status(PinKind.SIGN).remaining == 5


@pytest.mark.parametrize(
    ("kind", "pin"),
    [
        (PinKind.AUTH, "123"),
        (PinKind.AUTH, "12345"),
        (PinKind.AUTH, "12a4"),
        (PinKind.AUTH, "１２３４"),
        (PinKind.AUTH, ""),
        (PinKind.SIGN, "ABC12"),
        (PinKind.SIGN, "A" * 17),
        (PinKind.SIGN, "ABC-1234"),
        (PinKind.SIGN, "ÄBCDEFG"),
    ],
)
def test_malformed_pin_never_reaches_the_card(
    channel: CardChannel, kind: PinKind, pin: str
) -> None:
    session = JpkiSession(channel)
    before = channel.apdu_count
    with pytest.raises(PinFormatError):
        session.verify_pin(kind, pin)
    assert channel.apdu_count == before


def test_no_verify_is_resent(channel: CardChannel, persona: Persona) -> None:
    recorder = recorded(channel)
    session = JpkiSession(channel)
    with pytest.raises(InvalidPinError):
        session.verify_pin(PinKind.SIGN, "WRONG123")
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    assert recorder.verifies_with_data() == 2


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
@pytest.mark.parametrize("key", [KeyKind.AUTH, KeyKind.SIGN])
def test_signatures_verify_with_the_certificate(
    channel: CardChannel,
    software_card: SoftwareCard,
    persona: Persona,
    key: KeyKind,
    hash_name: str,
) -> None:
    session = JpkiSession(channel)
    pin = persona.pins.auth if key is KeyKind.AUTH else persona.pins.sign
    session.verify_pin(key.pin, pin)
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[
        hash_name
    ]
    digest = hashlib.new(hash_name, b"document").digest()
    signature = session.sign(key, digest, hash_name)
    assert len(signature) == 256
    cert = software_card.auth_certificate if key is KeyKind.AUTH else software_card.sign_certificate
    public_key_of(cert).verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(algorithm))


def test_signing_needs_the_pin(channel: CardChannel) -> None:
    session = JpkiSession(channel)
    with pytest.raises(SecurityStatusNotSatisfiedError, match="auth PIN"):
        session.sign(KeyKind.AUTH, bytes(32))


def test_sha1_refused_unless_allowed_and_digest_length_checked(
    channel: CardChannel, software_card: SoftwareCard, persona: Persona
) -> None:
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    before = channel.apdu_count
    with pytest.raises(DigestError, match="SHA-1"):
        session.sign(KeyKind.AUTH, bytes(20), "sha1")
    with pytest.raises(DigestError):
        session.sign(KeyKind.AUTH, bytes(31), "sha256")
    assert channel.apdu_count == before
    digest = hashlib.sha1(b"legacy").digest()  # noqa: S324 - the point of the test
    signature = session.sign(KeyKind.AUTH, digest, "sha1", allow_sha1=True)
    public_key_of(software_card.auth_certificate).verify(
        signature,
        digest,
        padding.PKCS1v15(),
        utils.Prehashed(hashes.SHA1()),  # noqa: S303
    )


def test_reselect_keeps_the_pin_and_logout_ends_it(channel: CardChannel, persona: Persona) -> None:
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    session.sign(KeyKind.AUTH, bytes(32))
    again = JpkiSession(channel)  # re-select: real cards keep the PIN verified
    assert again.pin_status(PinKind.AUTH).verified
    again.sign(KeyKind.AUTH, bytes(32))
    again.logout()
    assert again.pin_status(PinKind.AUTH).remaining == PinKind.AUTH.max_tries
    with pytest.raises(SecurityStatusNotSatisfiedError):
        again.sign(KeyKind.AUTH, bytes(32))


def test_change_pin(channel: CardChannel, persona: Persona) -> None:
    session = JpkiSession(channel)
    new = "9999" if persona.pins.auth != "9999" else "8888"
    session.change_pin(PinKind.AUTH, persona.pins.auth, new)
    fresh = JpkiSession(channel)
    with pytest.raises(InvalidPinError):
        fresh.verify_pin(PinKind.AUTH, persona.pins.auth)
    fresh.verify_pin(PinKind.AUTH, new)
    with pytest.raises(PinFormatError):
        fresh.change_pin(PinKind.AUTH, new, "12")


def test_card_info(channel: CardChannel, persona: Persona) -> None:
    session = CardInfoSession(channel)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.read_my_number()
    session.verify_pin(persona.pins.cardinfo)
    number = session.read_my_number()
    assert number == persona.my_number and str(number).endswith(persona.my_number.last4)
    assert persona.my_number.reveal() not in str(number) + repr(number)
    facts = session.read_basic_four()
    assert (facts.name, facts.address, facts.birth_date, facts.sex) == (
        persona.name,
        persona.address,
        persona.birth_date,
        persona.sex,
    )
    session.check_integrity()


@pytest.mark.parametrize("persona_id", ["takahashi-kenichi", "suzuki-aoi", "sato-hanako"])
def test_card_info_of_other_personas(connect, card_templates, persona_id: str) -> None:  # type: ignore[no-untyped-def]
    from simulators.personas import get_persona

    other = get_persona(persona_id)
    session = CardInfoSession(connect(card_templates[persona_id].copy()))
    session.verify_pin(other.pins.cardinfo)
    facts = session.read_basic_four()
    assert (facts.address, facts.sex) == (other.address, other.sex)
    session.check_integrity()


def test_not_a_mynumber_card() -> None:
    class OtherCard:
        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            return b"", 0x6A82

    with pytest.raises(NotAMyNumberCardError):
        JpkiSession(CardChannel(OtherCard()))
