"""The ISO 7816 protocol layer over a scripted connection: what it sends for 61xx, 6Cxx,
long data and long Le, and what the trace shows."""

from __future__ import annotations

import logging

import pytest

from card.apdu import CommandApdu
from card.errors import ApduError, MalformedResponseError, NotFoundError
from card.protocol import CardChannel
from card.trace import TRACE


class ScriptedConnection:
    """Answers from a list of (expected command hex, response hex); fails on surprises."""

    def __init__(self, script: list[tuple[str, str]], *, extended: bool = False) -> None:
        self.script = list(script)
        self.extended_length = extended
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        expected, answer = self.script.pop(0)
        assert apdu.hex().upper() == expected
        raw = bytes.fromhex(answer)
        return raw[:-2], int.from_bytes(raw[-2:], "big")


def test_get_response_collects_all_parts() -> None:
    connection = ScriptedConnection(
        [
            ("00B0000000", "6110"),
            ("00C0000010", "00" * 16 + "6104"),
            ("00C0000004", "01020304" + "9000"),
        ]
    )
    channel = CardChannel(connection)
    response = channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))
    assert response.data == bytes(16) + bytes.fromhex("01020304")
    assert response.ok and response.apdus == 3 and channel.apdu_count == 3


def test_wrong_le_is_resent_once_with_exact_length() -> None:
    connection = ScriptedConnection([("00B0000000", "6C05"), ("00B0000005", "AABBCCDDEE9000")])
    response = CardChannel(connection).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))
    assert response.data == bytes.fromhex("AABBCCDDEE") and response.apdus == 2


def test_6c_twice_is_malformed_not_a_loop() -> None:
    connection = ScriptedConnection([("00B0000000", "6C05"), ("00B0000005", "6C05")])
    with pytest.raises(MalformedResponseError):
        CardChannel(connection).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))


def test_endless_61xx_is_cut() -> None:
    class Endless:
        extended_length = False

        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            return b"\x00" * 255, 0x61FF

    with pytest.raises(MalformedResponseError, match="61xx"):
        CardChannel(Endless()).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))


def test_extended_le_when_connection_carries_it() -> None:
    connection = ScriptedConnection([("00B00000000000", "30029000")], extended=True)
    response = CardChannel(connection).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 65536))
    assert response.data == b"\x30\x02"


def test_long_le_becomes_short_without_extended() -> None:
    connection = ScriptedConnection([("00B0000000", "00" * 256 + "9000")])
    response = CardChannel(connection).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 65536))
    assert len(response.data) == 256


def test_long_data_is_chained_without_extended() -> None:
    data = bytes(range(256)) + bytes(44)  # 300 bytes: 255 + 45
    connection = ScriptedConnection(
        [
            ("10DA0000FF" + data[:255].hex().upper(), "9000"),
            ("00DA00002D" + data[255:].hex().upper(), "9000"),
        ]
    )
    response = CardChannel(connection).transmit(CommandApdu(0, 0xDA, 0, 0, data))
    assert response.ok and response.apdus == 2


def test_chaining_refused_raises() -> None:
    connection = ScriptedConnection([("10DA0000FF" + "00" * 255, "6884")])
    with pytest.raises(ApduError, match="chaining refused") as refused:
        CardChannel(connection).transmit(CommandApdu(0, 0xDA, 0, 0, bytes(300)))
    assert refused.value.sw == 0x6884


def test_transmit_checked_raises_typed() -> None:
    connection = ScriptedConnection([("00A4040C02AAAA", "6A82")])
    with pytest.raises(NotFoundError):
        CardChannel(connection).transmit_checked(CommandApdu(0, 0xA4, 4, 0x0C, b"\xaa\xaa"))


def test_trace_redacts_pins_and_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    connection = ScriptedConnection(
        [
            ("002000800439303533", "63C2"),
            ("00A4040C0AD3921000310001010408", "9000"),
            ("00B0000011", "FF100C313233343536373839303138FFFF9000"),
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00B0000004", "308206A19000"),
        ]
    )
    channel = CardChannel(connection)
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0x20, 0, 0x80, b"9053"))
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D3921000310001010408")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 17))
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 4))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "39 30 35 33" not in text and "<4 bytes redacted>" in text
    assert "31 32 33 34" not in text and "personal data redacted" in text
    assert "30 82 06 A1" in text  # certificates are not personal data: traced in full
    assert all(r.levelno == TRACE for r in caplog.records)


def test_no_trace_output_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    connection = ScriptedConnection([("00200080", "63C3")])
    with caplog.at_level(logging.DEBUG, logger="card.apdu"):
        CardChannel(connection).transmit(CommandApdu(0, 0x20, 0, 0x80))
    assert caplog.records == []


def test_trace_redacts_the_signature_certificate_only(caplog: pytest.LogCaptureFixture) -> None:
    """The sign certificate (JPKI EF 0001) holds the basic 4 facts; other EFs do not."""
    connection = ScriptedConnection(
        [
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00A4020C020001", "9000"),
            ("00B0000004", "308206A19000"),
            ("00A4020C02000A", "9000"),
            ("00B0000004", "308205509000"),
        ]
    )
    channel = CardChannel(connection)
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xA4, 2, 0x0C, bytes.fromhex("0001")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 4))
        channel.transmit(CommandApdu(0, 0xA4, 2, 0x0C, bytes.fromhex("000A")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 4))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "30 82 06 A1" not in text and "<4 bytes of personal data redacted>" in text
    assert "30 82 05 50" in text


def test_selection_is_tracked_while_the_trace_is_off(caplog: pytest.LogCaptureFixture) -> None:
    """The untraced path only looks at successful SELECTs, but it must look: personal
    data read after the trace is switched on is still redacted."""
    connection = ScriptedConnection(
        [
            ("00A4040C0AD3921000310001010408", "9000"),
            ("00B0000003", "3132339000"),
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00A4020C020001", "9000"),
            ("00B0000004", "308206A19000"),
        ]
    )
    channel = CardChannel(connection)
    with caplog.at_level(logging.DEBUG, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D3921000310001010408")))
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 3))
    with caplog.at_level(logging.DEBUG, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xA4, 2, 0x0C, bytes.fromhex("0001")))
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 4))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "31 32 33" not in text and "<3 bytes of personal data redacted>" in text
    assert "30 82 06 A1" not in text and "<4 bytes of personal data redacted>" in text


def test_a_refused_select_keeps_the_previous_selection(caplog: pytest.LogCaptureFixture) -> None:
    connection = ScriptedConnection(
        [
            ("00A4040C0AD3921000310001010408", "9000"),
            ("00A4040C02AAAA", "6A82"),
            ("00B0000003", "3132339000"),
        ]
    )
    channel = CardChannel(connection)
    channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D3921000310001010408")))
    channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, b"\xaa\xaa"))
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 3))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "31 32 33" not in text and "personal data redacted" in text


class ListConnection:
    """A connection that hands back the data as a bytearray and a chosen status word."""

    extended_length = False

    def __init__(self, sw: int) -> None:
        self.sw = sw

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        return bytearray(b"\x01\x02"), self.sw  # type: ignore[return-value]


def test_response_data_is_always_bytes() -> None:
    response = CardChannel(ListConnection(0x9000)).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 2))
    assert type(response.data) is bytes and response.data == b"\x01\x02"
    assert response.apdus == 1


@pytest.mark.parametrize("sw", [-1, 0x10000])
def test_status_word_out_of_range_is_malformed(sw: int) -> None:
    with pytest.raises(MalformedResponseError, match="out of range"):
        CardChannel(ListConnection(sw)).transmit(CommandApdu(0, 0xB0, 0, 0, b"", 2))


def test_trace_redacts_personal_data_coming_back_through_get_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 14 #4: under T=0 a card may answer a read 61xx and hand the data out through
    GET RESPONSE (INS C0); the SELECT itself may answer 61xx with its FCI. The data is
    still the selected EF's content, so it is redacted whatever command carried it."""
    my_number = "313233343536373839303132"  # "123456789012"
    connection = ScriptedConnection(
        [
            ("00A4040C0AD3921000310001010408", "6112"),
            ("00C0000012", "6F10" + "84" + "0E" + "00" * 14 + "9000"),
            ("00B0000000", "610F"),
            ("00C000000F", "FF100C" + my_number + "9000"),
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00A4020C020001", "9000"),
            ("00B0000000", "6104"),
            ("00C0000004", "308206A1" + "9000"),
        ]
    )
    channel = CardChannel(connection)
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D3921000310001010408")))
        response = channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xA4, 2, 0x0C, bytes.fromhex("0001")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))
    assert response.data == bytes.fromhex("FF100C" + my_number)  # the caller gets it all
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "31 32 33 34" not in text and "<15 bytes of personal data redacted> 9000" in text
    assert "30 82 06 A1" not in text and "<4 bytes of personal data redacted> 9000" in text
    assert "6F 10 84 0E" in text  # the FCI of a SELECT describes the file, it is shown


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("00A4080C04D3921000", "SELECT by path"),
        ("00A4040C03D39210", "a partial AID that may name a personal-data applet"),
        ("00A4010C021234", "SELECT child DF"),
    ],
)
def test_trace_redacts_after_a_selection_it_cannot_follow(
    caplog: pytest.LogCaptureFixture, command: str, why: str
) -> None:
    connection = ScriptedConnection(
        [
            ("00A4040C0AD392F000260100000001", "9000"),
            (command, "9000"),
            ("00B0000003", "3132339000"),
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00B0000003", "4142439000"),
        ]
    )
    channel = CardChannel(connection)
    raw = bytes.fromhex(command)
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(raw[0], raw[1], raw[2], raw[3], raw[5 : 5 + raw[4]]))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 3))
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 3))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "31 32 33" not in text, why
    assert "41 42 43" in text  # a selection it understands again: traced in full


def test_trace_redacts_a_read_through_a_short_ef_identifier(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = ScriptedConnection(
        [
            ("00A4040C0AD392F000260100000001", "9000"),
            ("00B0810004", "308206A19000"),  # READ BINARY of SFI 1: EF selection implied
            ("00B0000004", "308206A19000"),
        ]
    )
    channel = CardChannel(connection)
    with caplog.at_level(TRACE, logger="card.apdu"):
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")))
        channel.transmit(CommandApdu(0, 0xB0, 0x81, 0, b"", 4))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 4))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "30 82 06 A1" not in text
