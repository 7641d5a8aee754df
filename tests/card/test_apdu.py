"""Command APDU encoding/decoding and response parsing, from hex tables."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card.apdu import CommandApdu, Response, decode_command, parse_response
from card.errors import MalformedApduError, MalformedResponseError

ENCODINGS = [
    # (cla, ins, p1, p2, data hex, le, expected hex)
    (0x00, 0xA4, 0x04, 0x0C, "D392F000260100000001", None, "00A4040C0AD392F000260100000001"),
    (0x00, 0x20, 0x00, 0x80, "", None, "00200080"),  # case 1: PIN status
    (0x00, 0xB0, 0x00, 0x00, "", 256, "00B0000000"),  # case 2 short, Le=256 -> 00
    (0x00, 0xB0, 0x01, 0x00, "", 0x20, "00B0010020"),
    (0x00, 0xB0, 0x00, 0x00, "", 65536, "00B0000000" + "0000"),  # case 2 extended
    (0x00, 0xB0, 0x00, 0x00, "", 1000, "00B000000003E8"),
    (0x80, 0x2A, 0x00, 0x80, "AABB", 256, "802A008002AABB00"),  # case 4 short
    (0x00, 0x20, 0x00, 0x80, "31323334", None, "002000800431323334"),  # case 3 short
]


@pytest.mark.parametrize(("cla", "ins", "p1", "p2", "data", "le", "expected"), ENCODINGS)
def test_encode_table(
    cla: int, ins: int, p1: int, p2: int, data: str, le: int | None, expected: str
) -> None:
    command = CommandApdu(cla, ins, p1, p2, bytes.fromhex(data), le)
    assert command.encode().hex().upper() == expected
    decoded, _ = decode_command(bytes.fromhex(expected))
    assert decoded == command


def test_extended_case_3_and_4() -> None:
    data = bytes(300)
    case3 = CommandApdu(0x00, 0xD6, 0, 0, data).encode()
    assert case3[:7].hex().upper() == "00D60000" + "00012C"
    assert len(case3) == 7 + 300
    case4 = CommandApdu(0x80, 0x2A, 0, 0x80, data, 65536).encode()
    assert case4[-2:] == b"\x00\x00"
    decoded, extended = decode_command(case4)
    assert extended and decoded.le == 65536 and decoded.data == data


def test_force_extended_on_small_command() -> None:
    command = CommandApdu(0x00, 0xB0, 0, 0, b"", 256)
    assert command.encode(extended=True).hex().upper() == "00B00000000100"


def test_short_encoding_refused_when_it_does_not_fit() -> None:
    with pytest.raises(ValueError, match="short"):
        CommandApdu(0, 0xB0, 0, 0, b"", 1000).encode(extended=False)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "00A4",
        "00A404",
        "00A4040C05AABB",
        "00A4040C02AABBCCDD",
        "00B000000000",
        "00D60000000003AABB",
        "00D6000000000000",
    ],
)
def test_decode_rejects_malformed(bad: str) -> None:
    with pytest.raises(MalformedApduError):
        decode_command(bytes.fromhex(bad))


@pytest.mark.parametrize("field", ["cla", "ins", "p1", "p2"])
@pytest.mark.parametrize("value", [-1, 256, 0x1FF, -256])
def test_header_bytes_checked(field: str, value: int) -> None:
    cla, ins, p1, p2 = (value if name == field else 0 for name in ("cla", "ins", "p1", "p2"))
    with pytest.raises(ValueError, match=f"{field} must be one byte, got {value}"):
        CommandApdu(cla, ins, p1, p2)


@pytest.mark.parametrize("le", [0, -1, 65537])
def test_le_checked(le: int) -> None:
    with pytest.raises(ValueError, match=r"Le must be 1\.\.65536"):
        CommandApdu(0, 0xB0, 0, 0, b"", le)


def test_data_longer_than_any_apdu_refused() -> None:
    with pytest.raises(ValueError, match="data too long"):
        CommandApdu(0, 0xD6, 0, 0, bytes(65536))


def test_command_and_response_stay_frozen_values() -> None:
    """Both write their slots directly (speed); they must still behave as frozen
    dataclasses: immutable, compared by value, replace() re-validates."""
    command = CommandApdu(0, 0xB0, 0, 0, b"", 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.le = 5  # type: ignore[misc]
    assert command == CommandApdu(0, 0xB0, 0, 0, b"", 4) != CommandApdu(0, 0xB0, 0, 0, b"", 5)
    assert hash(command) == hash(CommandApdu(0, 0xB0, 0, 0, b"", 4))
    assert dataclasses.replace(command, p1=1).encode() == bytes.fromhex("00B0010004")
    with pytest.raises(ValueError, match="p1 must be one byte"):
        dataclasses.replace(command, p1=300)
    response = Response(b"\x01", 0x9000, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.sw = 0x6A82  # type: ignore[misc]
    assert response == Response(b"\x01", 0x9000)  # the APDU count is not compared
    assert (response.data, response.sw, response.apdus) == (b"\x01", 0x9000, 3)
    assert Response(b"", 0x9000).apdus == 1


def test_parse_response() -> None:
    response = parse_response(bytes.fromhex("01029000"))
    assert response.data == b"\x01\x02" and response.sw == 0x9000 and response.ok
    assert parse_response(bytes.fromhex("63C2")).sw2 == 0xC2
    for bad in (b"", b"\x90"):
        with pytest.raises(MalformedResponseError):
            parse_response(bad)


@given(st.binary(max_size=70000))
def test_decode_never_crashes_untyped(raw: bytes) -> None:
    try:
        command, extended = decode_command(raw)
    except MalformedApduError:
        return
    # whatever decodes must re-encode to the same bytes
    assert command.encode(extended=extended) == raw


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=600),
    st.one_of(st.none(), st.integers(1, 65536)),
)
def test_roundtrip(ins: int, p1: int, data: bytes, le: int | None) -> None:
    command = CommandApdu(0x00, ins, p1, 0x00, data, le)
    decoded, _ = decode_command(command.encode())
    assert decoded == command
