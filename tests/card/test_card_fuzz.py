"""Fuzzing what a card (or a hostile one) hands the host: response framing, TLV, the
card-info records, and the transport rules over a card answering garbage. Only the
typed card errors come out; nothing hangs (issue 14 fuzz suite)."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from card.apdu import CommandApdu, decode_command, parse_response
from card.errors import CardError
from card.protocol import CardChannel
from card.tlv import TlvError, iter_tlvs
from jpki.cardinfo_ap import parse_basic_four, parse_integrity, parse_my_number
from tests.jpki.fuzzing import FUZZ_SETTINGS, garbage, mutated

MY_NUMBER_RECORD = bytes.fromhex("FF100C") + b"123456789018" + b"\xff\xff"
TLV = bytes.fromhex("5F1F03414243") + bytes.fromhex("300601010102020A")


class HostileCard:
    """Answers each APDU from the fuzzed bytes: a length byte, that many data bytes and
    a status word; then 9000 forever."""

    extended_length = False

    def __init__(self, script: bytes) -> None:
        self.script = script
        self.pos = 0
        self.sent = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent += 1
        if self.pos + 3 > len(self.script):
            return b"", 0x9000
        n = self.script[self.pos] % 64
        data = self.script[self.pos + 1 : self.pos + 1 + n]
        self.pos += 1 + n
        sw = int.from_bytes(self.script[self.pos : self.pos + 2].ljust(2, b"\x90"), "big")
        self.pos += 2
        return data, sw


@FUZZ_SETTINGS
@given(st.binary(max_size=300))
def test_response_and_command_framing(data: bytes) -> None:
    with contextlib.suppress(CardError):
        parse_response(data)
    with contextlib.suppress(CardError):
        decode_command(data)


@FUZZ_SETTINGS
@given(st.one_of(mutated(TLV), garbage()))
def test_tlv(data: bytes) -> None:
    with contextlib.suppress(TlvError):
        list(iter_tlvs(data))


@FUZZ_SETTINGS
@given(st.one_of(mutated(MY_NUMBER_RECORD), garbage()))
def test_card_info_records(data: bytes) -> None:
    for parse in (parse_my_number, parse_basic_four, parse_integrity):
        with contextlib.suppress(CardError):
            parse(data)


@FUZZ_SETTINGS
@given(st.binary(max_size=2000))
def test_a_hostile_card_gets_typed_errors_and_bounded_exchanges(script: bytes) -> None:
    card = HostileCard(script)
    channel = CardChannel(card)
    for command in (
        CommandApdu(0, 0xB0, 0, 0, b"", 256),
        CommandApdu(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001")),
        CommandApdu(0, 0x2A, 0x9E, 0x9A, b"\x00" * 300, 256),
    ):
        with contextlib.suppress(CardError):
            channel.transmit(command)
    assert card.sent < 1000  # 61xx / 6Cxx loops are bounded
