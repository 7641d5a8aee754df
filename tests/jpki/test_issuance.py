"""jpki.issuance against the software card and the test PKI: the issuer's admin session,
its typed errors, and a key replacement whose new certificates the PKI issued for keys
the card generated (proof of possession checked)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.errors import InvalidPinError, PinBlockedError, PinNotSetError
from card.protocol import CardChannel
from jpki.constants import Aid, CertKind, KeyKind, PinKind
from jpki.errors import PinFormatError
from jpki.issuance import (
    ActivationRefusedError,
    GeneratedKey,
    IssuerAuthenticationError,
    IssuerSession,
    KeyCertificationError,
    PinAlreadySetError,
    PinMismatchError,
    confirm_new_pin,
    replace_keys,
)
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.card.software_card import HOLDER_PINS
from simulators.personas import Persona, get_persona
from simulators.pki import IssuanceError, TestPki
from tests.certifier import PkiCertifier, serial


@pytest.fixture
def card(card_templates: dict[str, SoftwareCard], persona: Persona) -> SoftwareCard:
    return card_templates[persona.id].copy()


@pytest.fixture(scope="module")
def unset_template(test_pki: TestPki, persona: Persona) -> SoftwareCard:
    return SoftwareCard.create(persona, test_pki, unset_pins=True)


def channel_to(card: SoftwareCard) -> CardChannel:
    return CardChannel(SoftwareCardConnection(card))


def test_a_wrong_issuer_key_is_refused(card: SoftwareCard) -> None:
    with pytest.raises(IssuerAuthenticationError):
        IssuerSession(channel_to(card), Aid.JPKI, lambda challenge: b"\x00" * 64)


def test_set_pins_on_a_new_card_then_use_them(
    unset_template: SoftwareCard, test_pki: TestPki
) -> None:
    card = unset_template.copy()
    channel = channel_to(card)
    with pytest.raises(PinNotSetError):
        JpkiSession(channel).verify_pin(PinKind.AUTH, "1234")
    assert JpkiSession(channel).pin_status(PinKind.AUTH).is_set is False
    admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
    admin.set_pin(PinKind.AUTH, confirm_new_pin(PinKind.AUTH, "4711", "4711"))
    admin.set_pin(PinKind.SIGN, confirm_new_pin(PinKind.SIGN, "newsign9", "NEWSIGN9"))
    with pytest.raises(PinAlreadySetError):
        admin.set_pin(PinKind.AUTH, "1111")
    info = IssuerSession(channel, Aid.CARD_INFO, test_pki.answer_card_challenge)
    info.set_pin(PinKind.CARD_INFO, "8080")
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, "4711")
    session.verify_pin(PinKind.SIGN, "NEWSIGN9")
    assert session.read_certificate(CertKind.SIGN) == card.sign_certificate
    assert all(card.pin_is_set(kind) for kind in HOLDER_PINS)


def test_new_pin_entries_are_checked_before_anything_is_sent() -> None:
    with pytest.raises(PinMismatchError):
        confirm_new_pin(PinKind.AUTH, "1234", "1235")
    with pytest.raises(PinFormatError):
        confirm_new_pin(PinKind.AUTH, "12a4", "12a4")
    assert confirm_new_pin(PinKind.SIGN, "abc123", "ABC123") == "ABC123"


def test_reset_a_locked_pin(card: SoftwareCard, test_pki: TestPki) -> None:
    channel = channel_to(card)
    session = JpkiSession(channel)
    for _ in range(3):
        with pytest.raises((InvalidPinError, PinBlockedError)):
            session.verify_pin(PinKind.AUTH, "0000", check_status_first=False)
    assert session.pin_status(PinKind.AUTH).blocked
    admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
    admin.reset_pin(PinKind.AUTH, "5678")
    JpkiSession(channel).verify_pin(PinKind.AUTH, "5678")


def test_replace_both_keys_on_the_same_card(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    old_auth, old_sign = card.auth_certificate, card.sign_certificate
    channel = channel_to(card)
    admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
    start = channel.apdu_count
    new = replace_keys(admin, [KeyKind.AUTH, KeyKind.SIGN], PkiCertifier(test_pki, persona, card))
    assert channel.apdu_count - start == 7  # 2 GENERATE, 2x (SELECT + UPDATE), ACTIVATE
    assert card.auth_certificate == new[KeyKind.AUTH]
    assert card.sign_certificate == new[KeyKind.SIGN]
    assert test_pki.previous_serial(serial(new[KeyKind.AUTH])) == serial(old_auth)
    assert test_pki.previous_serial(serial(new[KeyKind.SIGN])) == serial(old_sign)
    assert test_pki.paired_serial(serial(new[KeyKind.AUTH])) == serial(new[KeyKind.SIGN])
    session = JpkiSession(channel)
    session.verify_pin(PinKind.SIGN, persona.pins.sign)
    digest = hashlib.sha256(b"after renewal").digest()
    signature = session.sign(KeyKind.SIGN, digest)
    public_key = x509.load_der_x509_certificate(new[KeyKind.SIGN]).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"after renewal", padding.PKCS1v15(), hashes.SHA256())


def test_short_apdus_write_in_pieces(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    t0 = card.copy(t0=True)
    channel = channel_to(t0)
    assert not channel.extended_length
    admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
    new = replace_keys(admin, [KeyKind.AUTH], PkiCertifier(test_pki, persona, t0))
    assert t0.auth_certificate == new[KeyKind.AUTH]


def test_a_certificate_for_another_key_never_reaches_the_card(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    old = card.auth_certificate

    class Wrong(PkiCertifier):
        def certify(self, generated: GeneratedKey) -> bytes:
            return card.sign_certificate

    admin = IssuerSession(channel_to(card), Aid.JPKI, test_pki.answer_card_challenge)
    with pytest.raises(KeyCertificationError):
        replace_keys(admin, [KeyKind.AUTH], Wrong(test_pki, persona, card))
    assert card.auth_certificate == old
    with pytest.raises(ActivationRefusedError):  # the staged key has no certificate
        admin.activate()
    assert card.auth_certificate == old


def test_pki_refuses_bad_possession_and_wrong_holders(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    admin = IssuerSession(channel_to(card), Aid.JPKI, test_pki.answer_card_challenge)
    nonce = test_pki.new_pop_nonce()
    generated = admin.generate_key(KeyKind.AUTH, nonce)
    old = serial(card.auth_certificate)
    tampered = generated.answer[:-1] + bytes([generated.answer[-1] ^ 1])
    with pytest.raises(IssuanceError, match="possession"):
        test_pki.certify_generated_key(persona, "auth", tampered, nonce, replaces=old)
    with pytest.raises(IssuanceError, match="nonce"):  # each nonce works once
        test_pki.certify_generated_key(persona, "auth", generated.answer, nonce, replaces=old)
    other = get_persona("sato-hanako")
    fresh = test_pki.new_pop_nonce()
    generated = admin.generate_key(KeyKind.AUTH, fresh)
    with pytest.raises(IssuanceError, match="another holder"):
        test_pki.certify_generated_key(other, "auth", generated.answer, fresh, replaces=old)
    fresh = test_pki.new_pop_nonce()
    generated = admin.generate_key(KeyKind.AUTH, fresh)
    with pytest.raises(IssuanceError, match="not a sign"):
        test_pki.certify_generated_key(persona, "sign", generated.answer, fresh, replaces=old)
    with pytest.raises(IssuanceError, match="unknown or already used"):
        test_pki.certify_generated_key(persona, "auth", generated.answer, b"x" * 32, replaces=old)


def test_sign_certificate_after_a_move_carries_the_new_address_and_partition(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    moved = dataclasses.replace(
        persona,
        address="大阪府大阪市北区中之島一丁目3番20号",
        prefecture="大阪府",
        city="大阪市",
        prefecture_en="Osaka",
        city_en="Osaka-shi",
    )
    old_sign = card.sign_certificate
    admin = IssuerSession(channel_to(card), Aid.JPKI, test_pki.answer_card_challenge)
    certifier = PkiCertifier(test_pki, moved, card)
    new = replace_keys(admin, [KeyKind.SIGN], certifier)[KeyKind.SIGN]
    certificate = x509.load_der_x509_certificate(new)
    record = test_pki.record(certificate.serial_number)
    assert record.partition == "Osaka/Osaka-shi"
    assert test_pki.record(serial(old_sign)).partition != record.partition
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    names = [n for point in points for n in (point.full_name or [])]
    directory_names = [n.value.rfc4514_string() for n in names if isinstance(n, x509.DirectoryName)]
    assert any("CN=Osaka-shi CRLDP" in name for name in directory_names)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = [n.value for n in san if isinstance(n, x509.OtherName)]
    assert any("中之島".encode() in value for value in values)


def test_live_public_key_follows_activation(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    admin = IssuerSession(channel_to(card), Aid.JPKI, test_pki.answer_card_challenge)
    assert admin.live_public_key(KeyKind.SIGN) == card.public_key(KeyKind.SIGN)
    generated = admin.generate_key(KeyKind.SIGN, test_pki.new_pop_nonce())
    assert admin.live_public_key(KeyKind.SIGN) != generated.public_key  # only staged
    new = replace_keys(admin, [KeyKind.SIGN], PkiCertifier(test_pki, persona, card))
    live = admin.live_public_key(KeyKind.SIGN)
    assert live == x509.load_der_x509_certificate(new[KeyKind.SIGN]).public_key()
