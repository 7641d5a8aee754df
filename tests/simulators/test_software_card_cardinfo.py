"""The card-info input-helper applet of the software card, byte for byte."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from card.tlv import iter_tlvs, read_tlv
from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import get_persona
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_CARD_INFO,
    SELECT_JPKI,
    read_binary,
    read_whole_ef,
    select_ef,
    sw,
    tx,
    verify,
)

CARD_INFO_PIN = "1234"  # yamada-taro


def open_card_info(card: SoftwareCard, pin: str = CARD_INFO_PIN) -> None:
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, select_ef(0x0011)) == 0x9000
    assert sw(card, verify(pin)) == 0x9000


def read_ef(card: SoftwareCard, fid: int) -> bytes:
    assert sw(card, select_ef(fid)) == 0x9000
    return read_whole_ef(card)


def test_every_record_needs_the_card_info_pin(card: SoftwareCard) -> None:
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    for fid in (0x0001, 0x0002, 0x0003, 0x0006, 0x0007):
        assert sw(card, select_ef(fid)) == 0x9000
        assert sw(card, read_binary(0, 0)) == 0x6982
    # The JPKI PINs do not open it (and selecting JPKI clears everything anyway).
    assert sw(card, select_ef(0x0011)) == 0x9000
    assert sw(card, PIN_STATUS) == 0x63C3
    assert sw(card, select_ef(0x0018)) == 0x6A82  # JPKI's PIN EF is not here
    assert sw(card, read_binary(0, 0)) == 0x6981  # the PIN EF stayed current


def test_my_number_record(card: SoftwareCard) -> None:
    open_card_info(card)
    raw = read_ef(card, 0x0001)
    assert raw == bytes.fromhex("FF100C") + b"123456789018" + b"\xff\xff"
    assert len(raw) == 17
    assert sw(card, read_binary(17, 1)) == 0x6B00


def test_basic_four_record_and_offsets(card: SoftwareCard) -> None:
    persona = get_persona("yamada-taro")
    open_card_info(card)
    raw = read_ef(card, 0x0002)
    record = read_tlv(raw)
    assert record.tag == 0xFF20
    assert set(raw[record.total_length :]) == {0xFF}  # filler after the object
    children = list(iter_tlvs(record.value))
    assert [c.tag for c in children] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    offsets = children[0].value
    assert len(offsets) == 8
    # Each offset counts from byte 0 of the EF (the FF of FF20) to that field's tag
    # byte, as on real cards (real-card-notes.md §2): the first is 0x000E.
    assert offsets[:2] == b"\x00\x0e"
    for index, child in enumerate(children[1:]):
        offset = int.from_bytes(offsets[2 * index : 2 * index + 2], "big")
        assert read_tlv(raw, offset) == child
    assert children[1].value.decode("utf-8") == "山田\u3000太郎" == persona.name
    assert children[2].value.decode("utf-8") == persona.address
    assert children[3].value == b"19850412"
    assert children[4].value == b"1"


def test_long_address_uses_a_long_form_length(takahashi_card_template: SoftwareCard) -> None:
    persona = get_persona("takahashi-kenichi")
    card = takahashi_card_template.copy()
    open_card_info(card, persona.pins.cardinfo)
    raw = read_ef(card, 0x0002)
    address = persona.address.encode("utf-8")
    assert len(address) > 127
    length = len(address).to_bytes(1 if len(address) < 256 else 2, "big")
    form = bytes([0x80 | len(length)]) + length
    assert bytes.fromhex("DF23") + form + address in raw
    record = read_tlv(raw)
    assert raw[2] & 0x80  # the FF20 length itself is long form too
    assert [c.tag for c in record.children()][2] == 0xDF23
    assert raw[record.total_length :] == b"\xff" * (len(raw) - record.total_length)


def test_integrity_record_hashes_and_signature(card: SoftwareCard) -> None:
    open_card_info(card)
    my_number = read_ef(card, 0x0001)
    basic = read_ef(card, 0x0002)
    raw = read_ef(card, 0x0003)
    record = read_tlv(raw)
    assert record.tag == 0xFF30
    assert set(raw[record.total_length :]) == {0xFF}
    df31, df32, df33 = record.children()
    assert (df31.tag, df32.tag, df33.tag) == (0xDF31, 0xDF32, 0xDF33)
    assert df31.value == hashlib.sha256(my_number).digest()
    basic_value = read_tlv(basic).value
    from_name_on = basic_value[read_tlv(basic_value).total_length :]  # skip DF21
    assert from_name_on.startswith(bytes.fromhex("DF22"))
    assert df32.value == hashlib.sha256(from_name_on).digest()
    signed = record.value[: df31.total_length + df32.total_length]
    card.integrity_public_key.verify(df33.value, signed, padding.PKCS1v15(), hashes.SHA256())
    assert len(df33.value) == 256


def test_card_info_pin_is_its_own_counter(card: SoftwareCard) -> None:
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, select_ef(0x0011)) == 0x9000
    assert [sw(card, verify("9999")) for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]
    assert sw(card, verify(CARD_INFO_PIN)) == 0x6984
    assert sw(card, PIN_STATUS) == 0x63C0  # real cards (notes §1)
    assert card.pin_remaining(PinKind.CARD_INFO) == 0
    assert card.pin_remaining(PinKind.AUTH) == 3
    assert sw(card, select_ef(0x0001)) == 0x9000
    assert sw(card, read_binary(0, 0)) == 0x6982


def test_selecting_jpki_closes_the_card_info_pin(card: SoftwareCard) -> None:
    open_card_info(card)
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, SELECT_CARD_INFO) == 0x9000
    assert sw(card, select_ef(0x0001)) == 0x9000
    assert sw(card, read_binary(0, 0)) == 0x6982


def test_partial_reads_of_the_my_number_record(card: SoftwareCard) -> None:
    open_card_info(card)
    assert sw(card, select_ef(0x0001)) == 0x9000
    assert tx(card, read_binary(0, 3)) == (bytes.fromhex("FF100C"), 0x9000)
    assert tx(card, read_binary(15, 0)) == (b"\xff\xff", 0x9000)
