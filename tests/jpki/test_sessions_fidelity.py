"""The JPKI client against behaviours real cards show (real-card-notes.md), written from
those facts and checked with `cryptography` against the certificates the card itself
returns, not against the software card's internals. Over every transport."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from card.errors import InvalidPinError, PinBlockedError, SecurityStatusNotSatisfiedError
from card.protocol import CardChannel
from jpki.card_objects import CardObject, CardObjects
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession, SignatureScheme, SigningInputError
from jpki.token_info import TokenKind
from simulators.card import SoftwareCard
from simulators.card.options import CardOptions
from simulators.personas import Persona
from tests.jpki.test_sessions import recorded

MESSAGE = b"mynaterm: the card hashes this message itself"
DIGEST = hashlib.sha256(MESSAGE).digest()
SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def card_public_key(session: JpkiSession, key: KeyKind) -> rsa.RSAPublicKey:
    kind = CertKind.AUTH if key is KeyKind.AUTH else CertKind.SIGN
    public_key = x509.load_der_x509_certificate(session.read_certificate(kind)).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    return public_key


def open_key(session: JpkiSession, key: KeyKind, persona: Persona) -> None:
    pin = persona.pins.auth if key is KeyKind.AUTH else persona.pins.sign
    session.verify_pin(key.pin, pin)


def test_reselect_between_verify_and_sign(channel: CardChannel, persona: Persona) -> None:
    """What clients written against real cards do: VERIFY, re-select the applet, SIGN."""
    JpkiSession(channel).verify_pin(PinKind.AUTH, persona.pins.auth)
    again = JpkiSession(channel)
    signature = again.sign(KeyKind.AUTH, DIGEST)
    card_public_key(again, KeyKind.AUTH).verify(
        signature, DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256())
    )


@pytest.mark.parametrize("key", list(KeyKind))
@pytest.mark.parametrize("scheme", list(SignatureScheme))
def test_every_signature_scheme_verifies(
    channel: CardChannel, persona: Persona, key: KeyKind, scheme: SignatureScheme
) -> None:
    session = JpkiSession(channel)
    open_key(session, key, persona)
    public_key = card_public_key(session, key)
    if scheme is SignatureScheme.PKCS1_AS_SENT:
        data = SHA256_DIGESTINFO + DIGEST
    elif scheme in (SignatureScheme.PKCS1_PREHASHED, SignatureScheme.PSS_PREHASHED):
        data = DIGEST
    else:
        data = MESSAGE
    signature = session.sign_with(key, scheme, data)
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
    if scheme is SignatureScheme.PKCS1_SHA256_BARE:
        # The bare hash under PKCS#1 v1.5 type 1: recover the block with the public key.
        numbers = public_key.public_numbers()
        block = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(256, "big")
        assert block == b"\x00\x01" + b"\xff" * (256 - 3 - 32) + b"\x00" + DIGEST
    elif scheme in (SignatureScheme.PSS_PREHASHED, SignatureScheme.PSS_SHA256):
        public_key.verify(signature, DIGEST, pss, Prehashed(hashes.SHA256()))
    else:
        public_key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


def test_pss_signatures_differ_and_pkcs1_ones_do_not(
    channel: CardChannel, persona: Persona
) -> None:
    session = JpkiSession(channel)
    open_key(session, KeyKind.AUTH, persona)
    assert session.sign_sha256(KeyKind.AUTH, DIGEST, pss=True) != session.sign_sha256(
        KeyKind.AUTH, DIGEST, pss=True
    )
    assert session.sign_message(KeyKind.AUTH, MESSAGE) == session.sign_sha256(KeyKind.AUTH, DIGEST)


@pytest.mark.parametrize("key", list(KeyKind))
def test_short_id_signing_needs_no_select_and_matches_p2_80(
    channel: CardChannel, persona: Persona, key: KeyKind
) -> None:
    session = JpkiSession(channel)
    open_key(session, key, persona)
    recorder = recorded(channel)
    by_short_id = session.sign(key, DIGEST)
    assert len(recorder.sent) == 1  # no SELECT of the key EF
    assert recorder.sent[0][:4] == bytes((0x80, 0x2A, 0x00, 0x80 | key.file))
    digest_info = recorder.sent[0][5:56]
    after_select = session.sign_with(
        key, SignatureScheme.PKCS1_AS_SENT, digest_info, select_key=True
    )
    assert recorder.sent[1] == bytes.fromhex(f"00A4020C02{key.file:04X}")
    assert recorder.sent[2][:4] == bytes.fromhex("802A0080")
    assert after_select == by_short_id  # PKCS#1 v1.5 is deterministic: byte-identical


def test_signing_input_is_checked_before_any_apdu(channel: CardChannel, persona: Persona) -> None:
    session = JpkiSession(channel)
    recorder = recorded(channel)
    for scheme, data in (
        (SignatureScheme.PKCS1_AS_SENT, b""),
        (SignatureScheme.PKCS1_AS_SENT, bytes(246)),
        (SignatureScheme.PKCS1_PREHASHED, bytes(31)),
        (SignatureScheme.PSS_PREHASHED, bytes(33)),
        (SignatureScheme.PSS_SHA256, bytes(256)),
    ):
        with pytest.raises(SigningInputError):
            session.sign_with(KeyKind.AUTH, scheme, data)
    assert recorder.sent == []


def test_signing_without_the_pin_is_refused(channel: CardChannel) -> None:
    session = JpkiSession(channel)
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.sign_message(KeyKind.SIGN, MESSAGE)


def test_token_info_and_certificate_availability(channel: CardChannel) -> None:
    session = JpkiSession(channel)
    info = session.read_token_info()
    assert info.kind is TokenKind.CARD and info.label == "JPKIAPICCTOKEN2"
    assert (info.hardware_version, info.firmware_version) == (b"03", b"01")
    assert (info.max_pin_length, info.min_pin_length) == (16, 6)
    assert (info.model, info.flags) == ("E16R01NJ", 0x040D)
    assert info.memory == (0xFFFFFFFF,) * 4
    available = session.certificate_availability()
    assert available.raw == b"\x8f\x8f\x00"
    assert available.sign_certificate and available.auth_certificate


def test_logout_ends_the_pin(channel: CardChannel, persona: Persona) -> None:
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    session.logout()
    with pytest.raises(SecurityStatusNotSatisfiedError):
        session.sign(KeyKind.AUTH, DIGEST)


@pytest.mark.parametrize("answers_6984", [False, True], ids=["63C0", "6984"])
def test_a_blocked_pin_reads_as_blocked_either_way(
    connect,  # type: ignore[no-untyped-def]
    card_templates: dict[str, SoftwareCard],
    persona: Persona,
    answers_6984: bool,
) -> None:
    """Real cards answer the status query on a blocked PIN with 63C0; some answer 6984.
    The client calls both blocked and never sends the PIN."""
    card = card_templates[persona.id].copy(
        options=CardOptions(blocked_status_answers_6984=answers_6984)
    )
    channel = connect(card)
    session = JpkiSession(channel)
    for _ in range(PinKind.AUTH.max_tries):
        with pytest.raises((InvalidPinError, PinBlockedError)):  # the last try blocks
            session.verify_pin(PinKind.AUTH, "0000" if persona.pins.auth != "0000" else "9999")
    status = session.pin_status(PinKind.AUTH)
    assert status.blocked and status.remaining == 0
    recorder = recorded(channel)
    with pytest.raises(PinBlockedError):
        session.verify_pin(PinKind.AUTH, persona.pins.auth)
    assert recorder.verifies_with_data() == 0  # status read first: the PIN never sent


def test_card_objects_at_the_mf(channel: CardChannel, persona: Persona) -> None:
    JpkiSession(channel).verify_pin(PinKind.AUTH, persona.pins.auth)
    objects = CardObjects(channel)  # the ISD: power-on state
    card_id = objects.card_id()
    assert card_id is not None and len(card_id) == 15 and card_id.isdigit()
    municipality = objects.municipality()
    assert municipality is not None and len(municipality) == 5
    expiry = objects.expiry()
    assert expiry is not None and expiry > dt.date.today()
    assert objects.get(0x0041) is None  # absent: 6A88
    atr = objects.get(CardObject.CONTACT_ATR)
    assert atr is not None and len(atr) >= 2
    if channel.extended_length:
        upper = objects.get(CardObject.CV_ROOT_TO_INTERMEDIATE)
        assert upper is not None and len(upper) > 256 and upper[:2] == b"\x5f\x4e"
    # Selecting the ISD ended the verified PIN.
    assert JpkiSession(channel).pin_status(PinKind.AUTH).remaining == PinKind.AUTH.max_tries


def test_client_copes_with_other_cards(
    connect,  # type: ignore[no-untyped-def]
    card_templates: dict[str, SoftwareCard],
    persona: Persona,
) -> None:
    """Cards that show no 7F21, and answer 63Cx to the status query of a verified PIN."""
    card = card_templates[persona.id].copy(
        options=CardOptions(no_lower_cv_certificate=True, status_query_ignores_verified=True)
    )
    channel = connect(card)
    objects = CardObjects(channel)
    assert objects.get(CardObject.CV_INTERMEDIATE_TO_KEY) is None
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, persona.pins.auth)
    status = session.pin_status(PinKind.AUTH)
    assert not status.verified and status.remaining == PinKind.AUTH.max_tries
    session.verify_pin(PinKind.AUTH, persona.pins.auth)  # a right PIN again costs nothing
    assert len(session.sign(KeyKind.AUTH, DIGEST)) == 256
    assert card.pin_remaining(PinKind.AUTH) == PinKind.AUTH.max_tries
