"""The software card's issuer commands (a model: simulators/card/admin.py), at the APDU
level: issuer authentication, staged key generation and certificate writing, one
ACTIVATE, PIN setting on a new card and RESET RETRY COUNTER; and that no user-side
client reaches any of it or sees a private key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from hypothesis import given, settings
from hypothesis import strategies as st

from jpki.admin_protocol import (
    decode_generate_response,
    decode_public_key,
    generate_command_data,
    pop_message,
)
from jpki.constants import JpkiFile, KeyKind, PinKind
from simulators.card import SoftwareCard
from simulators.card.software_card import HOLDER_PINS
from simulators.card.state import decode_state, encode_state
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_CARD_INFO,
    SELECT_JPKI,
    SHA256_DIGESTINFO_PREFIX,
    select_ef,
    sw,
    tx,
    verify,
)

ADMIN_WITHOUT_AUTH = [
    "0046800015" + generate_command_data(KeyKind.AUTH, b"\x00" * 16).hex() + "00",
    "00D6000003308200",
    "00440000",
    "002C0280" + "0431323334",
    "002C0380",
]


@pytest.fixture(scope="module")
def unset_template(test_pki: TestPki, persona: Persona) -> SoftwareCard:
    return SoftwareCard.create(persona, test_pki, unset_pins=True)


@pytest.fixture(scope="module")
def authenticated_card(
    card_templates: dict[str, SoftwareCard], persona: Persona, test_pki: TestPki
) -> SoftwareCard:
    """One card in the admin state for the whole fuzz run (a command that ends the state
    leaves later examples answering 6982, which is also a valid answer)."""
    card = card_templates[persona.id].copy()
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    return card


@pytest.fixture
def card(card_templates: dict[str, SoftwareCard], persona: Persona) -> SoftwareCard:
    return card_templates[persona.id].copy()


def authenticate(card: SoftwareCard, pki: TestPki) -> None:
    challenge, status = tx(card, "0084000010")
    assert status == 0x9000 and len(challenge) == 16
    answer = pki.answer_card_challenge(challenge)
    assert sw(card, f"00820081{len(answer):02X}{answer.hex()}") == 0x9000


def generate(card: SoftwareCard, kind: KeyKind, nonce: bytes) -> bytes:
    data = generate_command_data(kind, nonce)
    answer, status = tx(card, f"00468000{len(data):02X}{data.hex()}00")
    assert status == 0x9000
    return answer


def update_binary(card: SoftwareCard, der: bytes) -> None:
    for offset in range(0, len(der), 255):
        chunk = der[offset : offset + 255]
        assert sw(card, f"00D6{offset:04X}{len(chunk):02X}{chunk.hex()}") == 0x9000


def sign_with_card(card: SoftwareCard, kind: KeyKind, message: bytes) -> bytes:
    info = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(message).digest()
    assert sw(card, select_ef(kind.file)) == 0x9000
    signature, status = tx(card, f"802A0080{len(info):02X}{info.hex()}00")
    assert status == 0x9000
    return signature


def verifies(der: bytes, signature: bytes, message: bytes) -> bool:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def serial_of(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


# --- no user-side route to the admin commands ---------------------------------------


@pytest.mark.parametrize("apdu", ADMIN_WITHOUT_AUTH)
def test_admin_commands_answer_6982_without_issuer_authentication(
    card: SoftwareCard, apdu: str
) -> None:
    before = (card.auth_certificate, card.public_key(KeyKind.AUTH).public_numbers())
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000  # even with the user's PIN verified
    if apdu[2:4] != "2C":
        assert sw(card, select_ef(JpkiFile.AUTH_CERT)) == 0x9000
    assert sw(card, apdu) == 0x6982
    assert (card.auth_certificate, card.public_key(KeyKind.AUTH).public_numbers()) == before
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_get_challenge_follows_the_real_card(card: SoftwareCard) -> None:
    first, status = tx(card, "0084000008")
    assert status == 0x9000 and len(first) == 8
    assert len(tx(card, "0084000000")[0]) == 256  # Le 00 means 256
    assert tx(card, "0084000008")[0] != first
    assert sw(card, "0084000108") == 0x6A86
    assert sw(card, "00840000") == 0x6700


def test_external_authenticate_refusals(card: SoftwareCard, test_pki: TestPki) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    challenge, _ = tx(card, "0084000010")
    good = test_pki.answer_card_challenge(challenge)
    wrong = test_pki.answer_card_challenge(challenge[::-1])
    assert sw(card, f"00820082{len(good):02X}{good.hex()}") == 0x6A88  # other key ref
    assert sw(card, f"00820081{len(wrong):02X}{wrong.hex()}") == 0x6300
    # The challenge was used up by the failed attempt: the good answer is now too late.
    assert sw(card, f"00820081{len(good):02X}{good.hex()}") == 0x6985
    assert sw(card, "00D6000003308200") == 0x6982


def test_external_authenticate_needs_an_applet_and_an_issuer_key(
    card: SoftwareCard, test_pki: TestPki
) -> None:
    challenge, _ = tx(card, "0084000010")
    answer = test_pki.answer_card_challenge(challenge)
    assert sw(card, f"00820081{len(answer):02X}{answer.hex()}") == 0x6985  # no applet
    # A state file from before the issuer key existed: no key, so no admin at all.
    document = json.loads(encode_state(decode_state(card.to_bytes())))
    del document["issuer_key"]
    legacy = SoftwareCard.from_bytes(json.dumps(document).encode())
    assert not legacy.has_issuer_key
    assert sw(legacy, SELECT_JPKI) == 0x9000
    challenge, _ = tx(legacy, "0084000010")
    answer = test_pki.answer_card_challenge(challenge)
    assert sw(legacy, f"00820081{len(answer):02X}{answer.hex()}") == 0x6A88


def test_admin_state_ends_on_applet_select_and_power_down(
    card: SoftwareCard, test_pki: TestPki
) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000  # an EF select keeps it
    assert sw(card, "002C0380") == 0x9000
    assert sw(card, SELECT_JPKI) == 0x9000  # re-selecting the same applet ends it
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, "002C0380") == 0x6982
    authenticate(card, test_pki)
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, "002C0380") == 0x6982
    authenticate(card, test_pki)
    card.power_off()
    card.power_on()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, "002C0380") == 0x6982


# --- keys and certificates ------------------------------------------------------------


def test_generate_stages_a_key_with_proof_of_possession(
    card: SoftwareCard, test_pki: TestPki
) -> None:
    old_cert = card.auth_certificate
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    nonce = bytes(range(32))
    answer = generate(card, KeyKind.AUTH, nonce)
    public_tlv, n, e, signature = decode_generate_response(answer)
    assert n.bit_length() == 2048 and e == 65537
    staged = rsa.RSAPublicNumbers(e, n).public_key()
    staged.verify(
        signature,
        hashlib.sha256(pop_message(public_tlv, nonce)).digest(),
        padding.PKCS1v15(),
        utils.Prehashed(hashes.SHA256()),
    )
    # Nothing live changed: the old key still signs for the old certificate.
    assert card.public_key(KeyKind.AUTH).public_numbers() != staged.public_numbers()
    assert card.auth_certificate == old_cert
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000
    assert verifies(old_cert, sign_with_card(card, KeyKind.AUTH, b"m"), b"m")


def test_generate_refusals(card: SoftwareCard, test_pki: TestPki) -> None:
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    authenticate(card, test_pki)
    data = generate_command_data(KeyKind.AUTH, b"\x01" * 16).hex()
    assert sw(card, f"0046800015{data}00") == 0x6A88  # no JPKI key in this applet
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    assert sw(card, f"0046820015{data}00") == 0x6A86
    assert sw(card, f"0046810015{data}00") == 0x6A80  # reading a key takes no nonce
    live, status = tx(card, "0046810003840117" + "00")
    assert status == 0x9000
    assert decode_public_key(live) == (
        card.public_key(KeyKind.AUTH).public_numbers().n,
        card.public_key(KeyKind.AUTH).public_numbers().e,
    )
    short_nonce = generate_command_data(KeyKind.AUTH, b"\x01" * 8).hex()
    assert sw(card, f"004680000D{short_nonce}00") == 0x6A80
    assert sw(card, "00468000038401FF00") == 0x6A80  # no nonce
    assert sw(card, "0046800015840199" + "8010" + "01" * 16 + "00") == 0x6A88


def test_activate_refuses_mismatched_staging_and_changes_nothing(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    old = card.auth_certificate
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    assert sw(card, "00440000") == 0x6985  # nothing staged
    generate(card, KeyKind.AUTH, b"\x02" * 32)
    assert sw(card, "00440000") == 0x6985  # a key without its certificate
    assert sw(card, select_ef(JpkiFile.AUTH_CERT)) == 0x9000
    update_binary(card, card.sign_certificate)  # a certificate for another key
    assert sw(card, "00440000") == 0x6985
    assert card.auth_certificate == old
    assert sw(card, select_ef(JpkiFile.TOKEN_INFO)) == 0x9000
    assert sw(card, "00D6000001FF") == 0x6982  # only certificate EFs are writable
    assert sw(card, select_ef(JpkiFile.AUTH_CERT)) == 0x9000
    assert sw(card, "00D60FFF02FFFF") == 0x6B00  # past the EF


def renew_auth_raw(card: SoftwareCard, pki: TestPki, persona: Persona) -> bytes:
    """A whole renewal of the auth key in raw APDUs; returns the new certificate."""
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, pki)
    nonce = pki.new_pop_nonce()
    answer = generate(card, KeyKind.AUTH, nonce)
    der, _ = pki.certify_generated_key(
        persona, "auth", answer, nonce, replaces=serial_of(card.auth_certificate)
    )
    assert sw(card, select_ef(JpkiFile.AUTH_CERT)) == 0x9000
    update_binary(card, der)
    assert sw(card, "00440000") == 0x9000
    return der


def test_activate_swaps_key_and_certificate_together(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    old = card.auth_certificate
    old_sign = card.sign_certificate
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000
    new = renew_auth_raw(card, test_pki, persona)
    assert card.auth_certificate == new != old
    assert card.sign_certificate == old_sign  # only what was staged changed
    assert test_pki.previous_serial(serial_of(new)) == serial_of(old)
    # The replaced key's verified state went with it; the PIN itself is unchanged.
    assert sw(card, select_ef(JpkiFile.AUTH_KEY)) == 0x9000
    info = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(b"m").digest()
    assert sw(card, f"802A0080{len(info):02X}{info.hex()}00") == 0x6982
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000
    signature = sign_with_card(card, KeyKind.AUTH, b"m")
    assert verifies(new, signature, b"m") and not verifies(old, signature, b"m")


def test_pull_before_activate_keeps_the_old_card(
    card: SoftwareCard, test_pki: TestPki, persona: Persona, tmp_path: Path
) -> None:
    old = card.auth_certificate
    old_key = card.public_key(KeyKind.AUTH).public_numbers()
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    nonce = test_pki.new_pop_nonce()
    der, _ = test_pki.certify_generated_key(
        persona, "auth", generate(card, KeyKind.AUTH, nonce), nonce, replaces=serial_of(old)
    )
    assert sw(card, select_ef(JpkiFile.AUTH_CERT)) == 0x9000
    update_binary(card, der)
    card.power_off()  # pulled before ACTIVATE
    card.save(tmp_path / "card.json")
    reloaded = SoftwareCard.load(tmp_path / "card.json")
    for each in (card, reloaded):
        each.power_on()
        assert each.auth_certificate == old
        assert each.public_key(KeyKind.AUTH).public_numbers() == old_key
        assert sw(each, SELECT_JPKI) == 0x9000
        assert sw(each, "00440000") == 0x6982  # nothing survives to activate later


# --- PINs -----------------------------------------------------------------------------


def test_unset_pins_answer_6a88_and_spend_nothing(unset_template: SoftwareCard) -> None:
    card = unset_template.copy()
    for select, fid in ((SELECT_JPKI, JpkiFile.AUTH_PIN), (SELECT_CARD_INFO, 0x0011)):
        assert sw(card, select) == 0x9000
        assert sw(card, select_ef(fid)) == 0x9000
        assert sw(card, PIN_STATUS) == 0x6A88
        assert sw(card, verify("1234")) == 0x6A88
        assert sw(card, "0024018004" + b"1234".hex()) == 0x6A88  # the user cannot set it
    assert all(not card.pin_is_set(kind) for kind in HOLDER_PINS)
    assert card.pin_remaining(PinKind.AUTH) == 3
    assert sw(card, select_ef(0x0001)) == 0x9000
    assert sw(card, "00B0000011") == 0x6982  # nothing readable without the PIN


def test_issuer_sets_each_pin_once(unset_template: SoftwareCard, test_pki: TestPki) -> None:
    card = unset_template.copy()
    assert sw(card, SELECT_JPKI) == 0x9000
    authenticate(card, test_pki)
    assert sw(card, select_ef(JpkiFile.SIGN_PIN)) == 0x9000
    assert sw(card, "0024018004" + b"ABCD".hex()) == 0x6A80  # too short for a sign PIN
    assert sw(card, "0024018008" + b"NEWSIGN1".hex()) == 0x9000
    assert card.pin_is_set(PinKind.SIGN) and card.pin_remaining(PinKind.SIGN) == 5
    # Set now: 24 is the user's command again, which needs the old PIN verified.
    assert sw(card, "0024018008" + b"OTHER123".hex()) == 0x6982
    assert sw(card, verify("NEWSIGN1")) == 0x9000
    state = decode_state(card.to_bytes())  # "not set" survives the state file
    assert state.security.pins[PinKind.AUTH].is_set is False
    assert state.security.pins[PinKind.SIGN].is_set is True


def test_reset_retry_counter_unblocks_with_a_new_or_the_same_pin(
    card: SoftwareCard, test_pki: TestPki
) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    for _ in range(3):
        sw(card, verify("9999"))
    assert sw(card, verify("1234")) == 0x6984
    authenticate(card, test_pki)
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, "002C028003" + b"123".hex()) == 0x6A80
    assert sw(card, "002C0280") == 0x6700
    assert sw(card, "002C038004" + b"1234".hex()) == 0x6700
    assert sw(card, "002C0280" + "04" + b"4321".hex()) == 0x9000
    assert card.pin_remaining(PinKind.AUTH) == 3
    assert sw(card, verify("1234")) == 0x63C2
    assert sw(card, verify("4321")) == 0x9000
    assert sw(card, select_ef(JpkiFile.SIGN_PIN)) == 0x9000
    sw(card, verify("WRONG99"))
    assert sw(card, "002C0380") == 0x9000  # counter only: the PIN stays
    assert card.pin_remaining(PinKind.SIGN) == 5
    assert sw(card, verify("TARO2024")) == 0x9000


# --- private keys never leave -----------------------------------------------------------


def _secret_windows(key: rsa.RSAPrivateKey) -> list[bytes]:
    numbers = key.private_numbers()
    windows = []
    for value in (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1):
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        windows += [raw[i : i + 16] for i in range(0, len(raw) - 16, 16)]
    return windows


def test_no_response_ever_carries_private_key_material(
    card: SoftwareCard, test_pki: TestPki, persona: Persona
) -> None:
    responses: list[bytes] = []
    original = card.process

    def recording(apdu: bytes) -> bytes:
        response = original(apdu)
        responses.append(response)
        return response

    card.process = recording  # type: ignore[method-assign]
    renew_auth_raw(card, test_pki, persona)
    assert sw(card, select_ef(JpkiFile.AUTH_PIN)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000
    sign_with_card(card, KeyKind.AUTH, b"m")
    for fid in (JpkiFile.AUTH_KEY, JpkiFile.SIGN_KEY, JpkiFile.AUTH_PIN):
        assert sw(card, select_ef(fid)) == 0x9000
        assert sw(card, "00B0000000") == 0x6981
    keys = card._state.security.keys
    secrets = [w for kind in KeyKind for w in _secret_windows(keys.private_key_for_state(kind))]
    blob = b"".join(responses)
    assert len(responses) > 10
    assert not any(window in blob for window in secrets)


def test_t0_card_hands_out_the_generated_key_with_get_response(
    card: SoftwareCard, test_pki: TestPki
) -> None:
    t0 = card.copy(t0=True)
    assert sw(t0, SELECT_JPKI) == 0x9000
    challenge, status = tx(t0, "0084000010")
    assert status == 0x9000
    answer = test_pki.answer_card_challenge(challenge)
    assert sw(t0, f"00820081{len(answer):02X}{answer.hex()}") == 0x9000
    data = generate_command_data(KeyKind.SIGN, b"\x03" * 32)
    first, status = tx(t0, f"00468000{len(data):02X}{data.hex()}")
    assert first == b"" and status >> 8 == 0x61
    collected = b""
    while status >> 8 == 0x61:
        more, status = tx(t0, f"00C00000{status & 0xFF:02X}")
        collected += more
    assert status == 0x9000
    assert decode_generate_response(collected)[1].bit_length() == 2048


# --- robustness -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    ins=st.sampled_from([0x82, 0x46, 0xD6, 0x44, 0x2C, 0x24, 0x20]),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=80),
    le=st.one_of(st.none(), st.integers(1, 256)),
)
def test_admin_commands_never_fail_inside_whatever_they_get(
    authenticated_card: SoftwareCard, ins: int, p1: int, p2: int, data: bytes, le: int | None
) -> None:
    from card.apdu import CommandApdu

    card = authenticated_card
    before = card.public_key(KeyKind.AUTH).public_numbers()
    apdu = CommandApdu(0x00, ins, p1, p2, data, le).encode()
    response = card.process(apdu)
    status = int.from_bytes(response[-2:], "big")
    assert status != 0x6F00, f"internal error on {apdu.hex()}"
    if ins == 0x46 and status == 0x9000 and p1 == 0x80:
        assert card.public_key(KeyKind.AUTH).public_numbers() == before  # staged only
