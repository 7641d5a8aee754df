"""Status words and BER-TLV as the card stores it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card.errors import (
    ApduError,
    InvalidPinError,
    MalformedResponseError,
    NotFoundError,
    PinBlockedError,
    SecurityStatusNotSatisfiedError,
    error_for_sw,
)
from card.sw import describe_sw, format_sw, retries_from_sw
from card.tlv import (
    TlvError,
    encode_tlv,
    encoded_size,
    find_child,
    iter_tlvs,
    read_tlv,
)

SW_TEXT = [
    (0x9000, "success"),
    (0x6A82, "file or application not found"),
    (0x6982, "security status not satisfied"),
    (0x6984, "reference data unusable (blocked)"),
    (0x63C2, "verification failed, 2 tries left"),
    (0x6110, "16 more bytes available (GET RESPONSE)"),
    (0x6100, "256 more bytes available (GET RESPONSE)"),
    (0x6C20, "wrong Le, exact length is 32"),
    (0x6B00, "wrong parameters (offset outside the EF)"),
    (0x1234, "unknown status"),
]


@pytest.mark.parametrize(("sw", "text"), SW_TEXT)
def test_describe(sw: int, text: str) -> None:
    assert describe_sw(sw) == text


def test_apdu_error_text() -> None:
    assert str(ApduError(b"", 0x6A82)) == "SW=6A82 (file or application not found)"
    assert format_sw(0x63C1) == "SW=63C1 (verification failed, 1 tries left)"


def test_retries() -> None:
    assert retries_from_sw(0x63C3) == 3
    assert retries_from_sw(0x63C0) == 0
    assert retries_from_sw(0x6300) is None
    assert retries_from_sw(0x9000) is None
    assert InvalidPinError(b"", 0x63C1).remaining == 1


@pytest.mark.parametrize(
    ("sw", "cls"),
    [
        (0x6982, SecurityStatusNotSatisfiedError),
        (0x6A82, NotFoundError),
        (0x6984, PinBlockedError),
        (0x6983, PinBlockedError),
        (0x6700, ApduError),
    ],
)
def test_error_for_sw(sw: int, cls: type[ApduError]) -> None:
    error = error_for_sw(b"", sw)
    assert type(error) is cls and error.sw == sw


TLV_TABLE = [
    # hex, tag, value hex, header length
    ("FF100C313233343536373839303138", 0xFF10, "313233343536373839303138", 3),
    ("300381010A", 0x30, "81010A", 2),
    ("DF2381800" + "0" * 255, 0xDF23, "00" * 128, 4),  # long form 81 80
    ("DF23820100" + "00" * 256, 0xDF23, "00" * 256, 5),
]


@pytest.mark.parametrize(("raw", "tag", "value", "header"), TLV_TABLE)
def test_read_tlv_table(raw: str, tag: int, value: str, header: int) -> None:
    item = read_tlv(bytes.fromhex(raw))
    assert item.tag == tag and item.value.hex().upper() == value and item.header_length == header
    assert encode_tlv(tag, item.value) == bytes.fromhex(raw)[: item.total_length]


def test_length_claiming_more_than_present() -> None:
    with pytest.raises(TlvError, match="claims 8 bytes"):
        read_tlv(bytes.fromhex("DF2208E5B1B1E794B0"))


def test_filler_after_object_is_ignored() -> None:
    raw = bytes.fromhex("FF100C313233343536373839303138FFFF")
    item = read_tlv(raw)
    assert item.total_length == 15 and item.value == b"123456789018"


def test_nested_children_and_find() -> None:
    inner = encode_tlv(0xDF24, b"19850412") + encode_tlv(0xDF25, b"1")
    outer = read_tlv(encode_tlv(0xFF20, inner) + b"\xff" * 10)
    assert [c.tag for c in outer.children()] == [0xDF24, 0xDF25]
    assert find_child(outer, 0xDF25).value == b"1"
    with pytest.raises(TlvError, match="DF22 missing"):
        find_child(outer, 0xDF22)


@pytest.mark.parametrize(
    "bad",
    ["", "DF", "DF22", "DF2281", "3080", "3085FFFFFFFFFF", "DFFFFFFFFF0100"],
)
def test_malformed_tlv(bad: str) -> None:
    with pytest.raises(TlvError):
        read_tlv(bytes.fromhex(bad))


def test_encoded_size_of_der_certificate_header() -> None:
    assert encoded_size(bytes.fromhex("308206A1")) == 4 + 0x06A1
    assert encoded_size(bytes.fromhex("3082")) is None  # need more bytes
    assert encoded_size(bytes.fromhex("30")) is None
    assert encoded_size(bytes.fromhex("3010")) == 18
    with pytest.raises(TlvError):
        encoded_size(bytes.fromhex("3080"))


def test_tlv_errors_are_malformed_response_errors() -> None:
    assert issubclass(TlvError, MalformedResponseError)


@given(st.binary(max_size=300))
def test_tlv_parsers_never_crash_untyped(raw: bytes) -> None:
    try:
        items = list(iter_tlvs(raw))
    except TlvError:
        items = []
    assert sum(i.total_length for i in items) in (0, len(raw))
    try:
        size = encoded_size(raw)
    except TlvError:
        return
    assert size is None or size >= 2
