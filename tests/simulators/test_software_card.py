"""The software card's JPKI applet at the raw APDU level: SELECT, READ BINARY, PINs,
signatures, and the status words of every error."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from card.tlv import encoded_size
from jpki.constants import MYNUMBER_CARD_ATR, KeyKind, PinKind
from simulators.card import SoftwareCard
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_CARD_INFO,
    SELECT_CARD_SURFACE,
    SELECT_JPKI,
    SELECT_RESIDENT_REGISTRY,
    SHA256_DIGESTINFO_PREFIX,
    change_pin,
    compute_signature,
    read_binary,
    read_whole_ef,
    select_ef,
    sw,
    tx,
    verify,
)

AUTH_PIN = "1234"  # yamada-taro's test PINs (personas.toml)
SIGN_PIN = "TARO2024"


def digest_info(message: bytes) -> bytes:
    return SHA256_DIGESTINFO_PREFIX + hashlib.sha256(message).digest()


def certificate_key(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def open_auth_pin(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x9000


def open_sign_pin(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, verify(SIGN_PIN)) == 0x9000


# --- power and ATR ------------------------------------------------------------------


def test_atr_is_the_contact_atr_and_power_on_returns_it(card: SoftwareCard) -> None:
    assert card.atr == MYNUMBER_CARD_ATR == bytes.fromhex("3BE000FF8131FE4514")
    assert card.power_on() == MYNUMBER_CARD_ATR
    assert card.reset() == MYNUMBER_CARD_ATR


def test_unpowered_card_answers_6f00(card: SoftwareCard) -> None:
    card.power_off()
    assert sw(card, SELECT_JPKI) == 0x6F00
    card.power_on()
    assert sw(card, SELECT_JPKI) == 0x9000


# --- SELECT -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "select", [SELECT_JPKI, SELECT_CARD_INFO, SELECT_CARD_SURFACE, SELECT_RESIDENT_REGISTRY]
)
def test_all_four_applets_answer_select(card: SoftwareCard, select: str) -> None:
    assert tx(card, select) == (b"", 0x9000)


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("00A4040C0AD392F000260100000002", 0x6A82),  # unknown AID
        ("00A4040C04D392F000", 0x6A82),  # shorter than a RID: no prefix selection
        ("00A4040C", 0x6700),  # no AID
        ("00A4040C11" + "00" * 17, 0x6700),  # AID longer than 16 bytes
        ("00A40400" + "0AD392F000260100000001", 0x6A86),  # P2=00 (FCI) not supported
        ("00A4040009A00000030800001000" + "00", 0x6A82),  # a PIV probe with P2=00
        ("00A4020002000A", 0x6A86),  # EF with P2=00
        ("00A4080C020018", 0x6A86),  # select by path
        ("00A4000C020018", 0x6A86),  # P1=00
    ],
)
def test_select_errors(card: SoftwareCard, apdu: str, status: int) -> None:
    assert sw(card, apdu) == status


def test_select_ef_needs_an_applet_and_a_known_fid(card: SoftwareCard) -> None:
    assert sw(card, select_ef(0x000A)) == 0x6A82  # nothing selected since power-on
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x000A)) == 0x9000
    assert sw(card, select_ef(0x0011)) == 0x6A82  # a card-info EF, not in JPKI
    assert sw(card, "00A4020C03000A00") == 0x6700
    assert sw(card, "00A4020C01" + "0A") == 0x6700


def test_failed_select_keeps_the_current_ef(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0006)) == 0x9000
    assert sw(card, select_ef(0x7777)) == 0x6A82
    assert tx(card, read_binary(0, 4)) == (b"JPKI", 0x9000)


@pytest.mark.parametrize("select", [SELECT_RESIDENT_REGISTRY])
def test_applets_without_files_have_no_efs(card: SoftwareCard, select: str) -> None:
    assert sw(card, select) == 0x9000
    for fid in (0x0001, 0x0002, 0x000A):
        assert sw(card, select_ef(fid)) == 0x6A82


# --- READ BINARY --------------------------------------------------------------------


def test_read_binary_le_00_offsets_and_extended_le(card: SoftwareCard) -> None:
    der = card.auth_certificate
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x000A)) == 0x9000
    assert tx(card, read_binary(0, 0)) == (der[:256], 0x9000)
    assert tx(card, read_binary(0x0100, 0x10)) == (der[0x100:0x110], 0x9000)
    data, status = tx(card, "00B0000000" + "0000")  # extended Le 65536: the whole EF
    assert status == 0x9000
    assert data == read_whole_ef(card)
    assert data[: len(der)] == der
    # Filler: the EF is at least 2048 bytes, a multiple of 256, FF after the DER.
    assert len(data) >= 2048 and len(data) % 256 == 0 and len(data) > len(der)
    assert set(data[len(der) :]) == {0xFF}
    assert encoded_size(data[:4]) == len(der)
    # Extended Le from an offset returns the rest of the file.
    assert tx(card, "00B00100" + "000000") == (data[0x100:], 0x9000)


def test_read_binary_at_end_of_file(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x000A)) == 0x9000
    size = len(read_whole_ef(card))
    assert tx(card, read_binary(size - 3, 0)) == (b"\xff\xff\xff", 0x9000)  # fewer, 9000
    assert sw(card, read_binary(size, 0)) == 0x6B00
    assert sw(card, read_binary(size + 100, 1)) == 0x6B00
    assert sw(card, read_binary(0x7FFF, 1)) == 0x6B00


def test_token_info_is_a_160_byte_token_info(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0006)) == 0x9000
    data, status = tx(card, read_binary(0, 0))
    assert status == 0x9000 and len(data) == 160
    assert data[:32] == b"JPKIAPICCTOKEN2" + b" " * 17
    assert data[140:144] == b"0301"


def test_ca_certificates_are_free_to_read(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    for fid, der in ((0x0002, card.sign_ca_certificate), (0x000B, card.auth_ca_certificate)):
        assert sw(card, select_ef(fid)) == 0x9000
        assert read_whole_ef(card)[: len(der)] == der
        x509.load_der_x509_certificate(der)


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("00B0800000", 0x6A82),  # short EF id 0: no such EF
        ("00B0850000", 0x6A82),  # short EF id 05: none in JPKI
        ("00B0CA0000", 0x6A86),  # P1 b7 set with b8
        ("00B00000", 0x6700),  # no Le
        ("00B0000001AA", 0x6700),  # data field
        ("00B0000001AA00", 0x6700),
    ],
)
def test_read_binary_parameter_errors(card: SoftwareCard, apdu: str, status: int) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x000A)) == 0x9000
    assert sw(card, apdu) == status


def test_read_binary_needs_a_current_ef(card: SoftwareCard) -> None:
    assert sw(card, read_binary(0, 0)) == 0x6986
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, read_binary(0, 0)) == 0x6986


@pytest.mark.parametrize("fid", [0x0017, 0x0018, 0x001A, 0x001B])
def test_key_and_pin_efs_are_not_readable(card: SoftwareCard, fid: int) -> None:
    open_auth_pin(card)
    assert sw(card, select_ef(fid)) == 0x9000
    assert sw(card, read_binary(0, 0)) == 0x6981


def test_sign_certificate_needs_the_sign_pin(card: SoftwareCard) -> None:
    open_auth_pin(card)  # the auth PIN does not open it
    assert sw(card, select_ef(0x0001)) == 0x9000
    assert sw(card, read_binary(0, 0)) == 0x6982
    assert sw(card, read_binary(0x7FFF, 1)) == 0x6982  # checked before the offset
    open_sign_pin(card)
    assert sw(card, select_ef(0x0001)) == 0x9000
    der = card.sign_certificate
    assert read_whole_ef(card)[: len(der)] == der
    assert certificate_key(der).public_numbers() == card.public_key(KeyKind.SIGN).public_numbers()


def test_auth_certificate_certifies_the_auth_key(card: SoftwareCard) -> None:
    key = certificate_key(card.auth_certificate)
    assert key.public_numbers() == card.public_key(KeyKind.AUTH).public_numbers()
    assert key.public_numbers().e == 65537 and key.key_size == 2048


# --- CLA / INS / malformed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("10A4040C0AD392F000260100000001", 0x6E00),  # chaining bit
        ("0CB0000000", 0x69FC),  # secure messaging, no session
        ("84B0000000", 0x6E00),
        ("FFA4040C0AD392F000260100000001", 0x6E00),
        ("80B0000000", 0x6E00),  # class 80 only for COMPUTE DIGITAL SIGNATURE
        ("002A008003AABBCC00", 0x6E00),  # and the signature only in class 80
        ("00FF000000", 0x6D00),
        ("80FF000000", 0x6D00),
        ("00CA000000", 0x6A88),  # GET DATA of an absent object
        ("00C0000000", 0x6D00),  # GET RESPONSE over T=1
        ("00", 0x6700),
        ("00A404", 0x6700),
        ("00A4040C05D392", 0x6700),  # Lc says 5, 2 bytes follow
    ],
)
def test_class_instruction_and_length_errors(card: SoftwareCard, apdu: str, status: int) -> None:
    assert sw(card, apdu) == status


def test_malformed_extended_lengths_answer_6700(card: SoftwareCard) -> None:
    assert card.process(b"\x00\xb0\x00\x00\x00\x00") == b"\x67\x00"  # truncated extended
    assert card.process(b"\x00\xa4\x04\x0c\x00\x00\x00") != b"\x90\x00"
    assert card.process(b"\x00\xa4\x04\x0c\x00\x00\x0a" + b"\x01" * 3) == b"\x67\x00"
    assert card.process(b"") == b"\x67\x00"


# --- PIN status, VERIFY and lockout -------------------------------------------------


def test_pin_status_verify_and_counter_reset(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C3
    assert sw(card, PIN_STATUS) == 0x63C3  # the status query spends nothing
    assert sw(card, verify("9999")) == 0x63C2
    assert sw(card, PIN_STATUS) == 0x63C2
    assert card.pin_remaining(PinKind.AUTH) == 2
    assert sw(card, verify(AUTH_PIN)) == 0x9000
    assert card.pin_remaining(PinKind.AUTH) == 3  # a right PIN resets the counter
    assert sw(card, PIN_STATUS) == 0x9000  # verified
    assert sw(card, SELECT_CARD_INFO) == 0x9000  # another applet ends it
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C3


def test_auth_pin_lockout_sequence(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert [sw(card, verify("0000")) for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]
    assert sw(card, verify(AUTH_PIN)) == 0x6984  # even the right PIN
    assert sw(card, verify("0000")) == 0x6984
    assert sw(card, PIN_STATUS) == 0x63C0  # the status query: 63C0, as real cards
    assert card.pin_remaining(PinKind.AUTH) == 0
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, compute_signature(digest_info(b"x"))) == 0x6982
    # Survives a reset and leaves the other PINs alone.
    card.reset()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C0
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C5


def test_sign_pin_lockout_takes_five_tries(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C5
    statuses = [sw(card, verify("WRONG1")) for _ in range(5)]
    assert statuses == [0x63C4, 0x63C3, 0x63C2, 0x63C1, 0x63C0]
    assert sw(card, verify(SIGN_PIN)) == 0x6984
    assert sw(card, PIN_STATUS) == 0x63C0
    assert card.pin_remaining(PinKind.SIGN) == 0
    assert card.pin_remaining(PinKind.AUTH) == 3


@pytest.mark.parametrize(
    ("pin_ef", "bad_pin", "status"),
    [
        (0x0018, "12345", 0x63C2),  # auth PIN is 4 digits
        (0x0018, "12a4", 0x63C2),
        (0x0018, "123", 0x63C2),
        (0x001B, "TARO", 0x63C4),  # sign PIN is 6-16 of A-Z 0-9
        (0x001B, "taro2024", 0x63C4),  # lower case never matches
        (0x001B, "A" * 17, 0x63C4),
    ],
)
def test_wrong_format_pin_counts_as_a_wrong_try(
    card: SoftwareCard, pin_ef: int, bad_pin: str, status: int
) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(pin_ef)) == 0x9000
    assert sw(card, verify(bad_pin)) == status


def test_verify_needs_a_pin_ef_and_p1_p2(card: SoftwareCard) -> None:
    assert sw(card, verify(AUTH_PIN)) == 0x6986
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x6986
    assert sw(card, PIN_STATUS) == 0x6986
    assert sw(card, select_ef(0x000A)) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x6986
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, "0020008104" + AUTH_PIN.encode().hex()) == 0x6A88  # short id 01: no PIN
    assert sw(card, "0020018004" + AUTH_PIN.encode().hex()) == 0x6A86
    assert sw(card, "0020008004" + AUTH_PIN.encode().hex() + "00") == 0x6700
    assert card.pin_remaining(PinKind.AUTH) == 3


# --- when verified state ends -------------------------------------------------------


def test_reselecting_the_same_applet_keeps_pins_by_default(card: SoftwareCard) -> None:
    assert not card.reselect_clears_pins
    open_auth_pin(card)
    assert sw(card, SELECT_JPKI) == 0x9000  # same applet again
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x9000
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert len(tx(card, compute_signature(digest_info(b"x")))[0]) == 256
    # Another applet clears.
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C3


def test_reselect_clears_pins_when_the_option_is_on(
    yamada_card_template: SoftwareCard,
) -> None:
    card = yamada_card_template.copy(reselect_clears_pins=True)
    open_auth_pin(card)
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, compute_signature(digest_info(b"x"))) == 0x6982


def test_warm_reset_keeps_pins_and_power_cycle_clears(card: SoftwareCard) -> None:
    open_auth_pin(card)
    assert card.reset() == card.atr
    assert sw(card, select_ef(0x0017)) == 0x6A82  # the MF is current again
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, "802A0097" + f"{51:02X}" + digest_info(b"x").hex() + "00") == 0x9000
    card.power_off()
    card.power_on()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, "802A0097" + f"{51:02X}" + digest_info(b"x").hex() + "00") == 0x6982


@pytest.mark.parametrize("how", ["other applet", "power cycle", "failed verify", "ISD"])
def test_verified_state_is_cleared(card: SoftwareCard, how: str) -> None:
    open_auth_pin(card)
    if how == "other applet":
        assert sw(card, SELECT_CARD_SURFACE) == 0x9000
    elif how == "ISD":
        assert sw(card, "00A4040C07A0000001510000") == 0x9000
    elif how == "power cycle":
        card.power_off()
        card.power_on()
    else:
        assert sw(card, verify("0000")) == 0x63C2
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, PIN_STATUS) in (0x63C3, 0x63C2)
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, compute_signature(digest_info(b"x"))) == 0x6982


def test_selecting_efs_keeps_the_verified_pin(card: SoftwareCard) -> None:
    open_auth_pin(card)
    for fid in (0x000A, 0x0006, 0x0018, 0x0017):
        assert sw(card, select_ef(fid)) == 0x9000
    assert len(tx(card, compute_signature(digest_info(b"x")))[0]) == 256


# --- CHANGE REFERENCE DATA ----------------------------------------------------------


def test_change_pin_needs_verify_first(card: SoftwareCard) -> None:
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, change_pin("4321")) == 0x6982
    assert sw(card, verify(AUTH_PIN)) == 0x9000
    for bad in ("12a4", "12345", "123", "12 4"):
        assert sw(card, change_pin(bad)) == 0x6A80
    assert sw(card, "0024008004" + b"4321".hex()) == 0x6A86
    assert sw(card, "0024018104" + b"4321".hex()) == 0x6A86
    assert sw(card, "00240180") == 0x6700
    assert sw(card, change_pin("4321")) == 0x9000
    assert sw(card, PIN_STATUS) == 0x9000  # still verified
    card.reset()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x63C2  # the old PIN is gone
    assert sw(card, verify("4321")) == 0x9000
    assert card.pin_remaining(PinKind.AUTH) == 3


def test_change_sign_pin_format(card: SoftwareCard) -> None:
    open_sign_pin(card)
    assert sw(card, change_pin("newpin1")) == 0x6A80  # lower case
    assert sw(card, change_pin("NEW")) == 0x6A80
    assert sw(card, change_pin("N" * 17)) == 0x6A80
    assert sw(card, change_pin("NEWPIN2026")) == 0x9000
    card.reset()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, verify("NEWPIN2026")) == 0x9000


def test_change_pin_needs_a_pin_ef_and_an_unblocked_pin(card: SoftwareCard) -> None:
    assert sw(card, change_pin("4321")) == 0x6986
    open_auth_pin(card)
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, change_pin("4321")) == 0x6986
    assert sw(card, select_ef(0x0018)) == 0x9000
    for _ in range(3):
        sw(card, verify("0000"))
    assert sw(card, change_pin("4321")) == 0x6984


# --- COMPUTE DIGITAL SIGNATURE ------------------------------------------------------


@pytest.mark.parametrize("kind", [KeyKind.AUTH, KeyKind.SIGN])
def test_signature_verifies_against_the_certificate(card: SoftwareCard, kind: KeyKind) -> None:
    if kind is KeyKind.AUTH:
        open_auth_pin(card)
        key_ef, der = 0x0017, card.auth_certificate
    else:
        open_sign_pin(card)
        key_ef, der = 0x001A, card.sign_certificate
    assert sw(card, select_ef(key_ef)) == 0x9000
    message = b"nonce from the relying party"
    signature, status = tx(card, compute_signature(digest_info(message)))
    assert status == 0x9000 and len(signature) == 256
    digest = hashlib.sha256(message).digest()
    certificate_key(der).verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    certificate_key(der).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_signature_pads_the_data_exactly_as_given(card: SoftwareCard) -> None:
    open_auth_pin(card)
    assert sw(card, select_ef(0x0017)) == 0x9000
    numbers = card.public_key(KeyKind.AUTH).public_numbers()
    for data in (b"\x01", bytes(range(245))):  # shortest and longest that fit
        signature, status = tx(card, compute_signature(data))
        assert status == 0x9000
        recovered = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n)
        expected = b"\x00\x01" + b"\xff" * (253 - len(data)) + b"\x00" + data
        assert recovered.to_bytes(256, "big") == expected


def test_signature_errors(card: SoftwareCard) -> None:
    data = digest_info(b"x")
    assert sw(card, compute_signature(data)) == 0x6986  # nothing selected
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, compute_signature(data)) == 0x6982  # PIN not verified
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify(AUTH_PIN)) == 0x9000
    assert sw(card, compute_signature(data)) == 0x6986  # a PIN EF is not a key
    assert sw(card, select_ef(0x001A)) == 0x9000
    assert sw(card, compute_signature(data)) == 0x6982  # sign key needs the sign PIN
    assert sw(card, select_ef(0x0017)) == 0x9000
    assert sw(card, compute_signature(bytes(246))) == 0x6700  # no room for padding
    assert sw(card, "802A0080") == 0x6700  # no data
    assert sw(card, "802A0080" + f"{len(data):02X}" + data.hex() + "10") == 0x6700  # Le 16
    assert sw(card, "802A0680" + f"{len(data):02X}" + data.hex() + "00") == 0x6A86
    assert sw(card, "802A0081" + f"{len(data):02X}" + data.hex() + "00") == 0x6A88
    # Le absent, and extended length, both work.
    assert len(tx(card, "802A0080" + f"{len(data):02X}" + data.hex())[0]) == 256
    extended = "802A008000" + f"{len(data):04X}" + data.hex() + "0000"
    signature, status = tx(card, extended)
    assert status == 0x9000 and len(signature) == 256


def test_signature_is_deterministic_per_key(card: SoftwareCard) -> None:
    open_auth_pin(card)
    assert sw(card, select_ef(0x0017)) == 0x9000
    first = tx(card, compute_signature(digest_info(b"same")))
    assert first == tx(card, compute_signature(digest_info(b"same")))
    assert first != tx(card, compute_signature(digest_info(b"other")))


def test_copies_are_independent(yamada_card_template: SoftwareCard) -> None:
    one, two = yamada_card_template.copy(), yamada_card_template.copy()
    assert sw(one, SELECT_JPKI) == 0x9000
    assert sw(one, select_ef(0x0018)) == 0x9000
    assert sw(one, verify("0000")) == 0x63C2
    assert two.pin_remaining(PinKind.AUTH) == 3
    assert yamada_card_template.pin_remaining(PinKind.AUTH) == 3
    assert sw(one, verify(AUTH_PIN)) == 0x9000
    assert sw(one, change_pin("5555")) == 0x9000
    assert sw(two, SELECT_JPKI) == 0x9000
    assert sw(two, select_ef(0x0018)) == 0x9000
    assert sw(two, verify(AUTH_PIN)) == 0x9000  # the other clone kept the old PIN
    assert two.auth_certificate == one.auth_certificate  # same memory otherwise
