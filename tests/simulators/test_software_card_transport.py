"""T=0 framing (61xx / GET RESPONSE, 6Cxx) and the Connection, raw and through
card.protocol.CardChannel."""

from __future__ import annotations

import hashlib

import pytest

from card.apdu import CommandApdu
from card.connection import Connection
from card.errors import CardRemovedError
from card.protocol import CardChannel
from simulators.card import T0_ATR, SoftwareCard, SoftwareCardConnection
from tests.simulators.software_card_apdu import (
    PIN_STATUS,
    SELECT_JPKI,
    SHA256_DIGESTINFO_PREFIX,
    compute_signature,
    read_binary,
    select_ef,
    sw,
    tx,
    verify,
)

DIGEST_INFO = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(b"message").digest()


def test_t0_card_has_a_t0_atr_and_no_extended_length(t0_card: SoftwareCard) -> None:
    assert t0_card.atr == T0_ATR
    connection = SoftwareCardConnection(t0_card)
    assert connection.extended_length is False
    assert sw(t0_card, "00B0000000" + "0000") == 0x6700  # extended APDU in T=0


def test_t0_read_binary_answers_6cxx_at_the_end_of_file(t0_card: SoftwareCard) -> None:
    assert sw(t0_card, SELECT_JPKI) == 0x9000
    assert sw(t0_card, select_ef(0x0006)) == 0x9000
    assert tx(t0_card, read_binary(0, 0)) == (b"", 0x6CA0)  # 160 bytes, not 256
    assert tx(t0_card, read_binary(0, 0x20)) == (b"JPKIAPICCTOKEN2" + b" " * 17, 0x9000)
    assert tx(t0_card, read_binary(0, 4)) == (b"JPKI", 0x9000)  # exact Le: direct
    assert sw(t0_card, read_binary(0xA0, 0)) == 0x6B00  # errors pass through


def test_t0_signature_comes_through_get_response(t0_card: SoftwareCard) -> None:
    assert sw(t0_card, SELECT_JPKI) == 0x9000
    assert sw(t0_card, select_ef(0x0018)) == 0x9000
    assert sw(t0_card, PIN_STATUS) == 0x63C3
    assert tx(t0_card, verify("1234")) == (b"", 0x9000)  # no data: no 61xx
    assert sw(t0_card, select_ef(0x0017)) == 0x9000
    assert tx(t0_card, compute_signature(DIGEST_INFO)) == (b"", 0x6100)  # 256 bytes wait
    first, status = tx(t0_card, "00C0000080")
    assert len(first) == 128 and status == 0x6180
    second, status = tx(t0_card, "00C0000080")
    assert len(second) == 128 and status == 0x9000
    assert sw(t0_card, "00C0000080") == 0x6985  # nothing pending any more
    t1_card = t0_card.copy(t0=False)
    assert sw(t1_card, SELECT_JPKI) == 0x9000
    assert sw(t1_card, select_ef(0x0018)) == 0x9000
    assert sw(t1_card, verify("1234")) == 0x9000
    assert sw(t1_card, select_ef(0x0017)) == 0x9000
    assert tx(t1_card, compute_signature(DIGEST_INFO)) == (first + second, 0x9000)


def test_t0_get_response_errors(t0_card: SoftwareCard) -> None:
    assert sw(t0_card, "00C0000010") == 0x6985
    assert sw(t0_card, SELECT_JPKI) == 0x9000
    assert sw(t0_card, select_ef(0x0018)) == 0x9000
    assert sw(t0_card, verify("1234")) == 0x9000
    assert sw(t0_card, select_ef(0x0017)) == 0x9000
    assert sw(t0_card, compute_signature(DIGEST_INFO)) == 0x6100
    assert sw(t0_card, "00C0010000") == 0x6A86
    assert sw(t0_card, "00C00000") == 0x6700
    data, status = tx(t0_card, "00C0000000")
    assert len(data) == 256 and status == 0x9000
    assert sw(t0_card, compute_signature(DIGEST_INFO)) == 0x6100
    assert sw(t0_card, select_ef(0x0017)) == 0x9000  # another command drops it
    assert sw(t0_card, "00C0000000") == 0x6985


def test_t0_get_response_with_le_above_pending_answers_6cxx(t0_card: SoftwareCard) -> None:
    assert sw(t0_card, SELECT_JPKI) == 0x9000
    assert sw(t0_card, select_ef(0x0018)) == 0x9000
    assert sw(t0_card, verify("1234")) == 0x9000
    assert sw(t0_card, select_ef(0x0017)) == 0x9000
    assert sw(t0_card, compute_signature(DIGEST_INFO)) == 0x6100
    assert len(tx(t0_card, "00C00000F0")[0]) == 0xF0
    assert tx(t0_card, "00C0000020") == (b"", 0x6C10)
    data, status = tx(t0_card, "00C0000010")
    assert len(data) == 0x10 and status == 0x9000


def _read_file(channel: CardChannel, fid: int) -> bytes:
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex(SELECT_JPKI[10:])))
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
    out = b""
    while True:
        response = channel.transmit(CommandApdu(0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, le=256))
        if response.sw == 0x6B00:
            return out
        assert response.ok
        out += response.data


def _sign(channel: CardChannel) -> bytes:
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex(SELECT_JPKI[10:])))
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("0018")))
    channel.transmit_checked(CommandApdu(0x00, 0x20, 0x00, 0x80, b"1234"))
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("0017")))
    return channel.transmit_checked(CommandApdu(0x80, 0x2A, 0x00, 0x80, DIGEST_INFO, 256)).data


@pytest.mark.parametrize("fid", [0x000A, 0x000B, 0x0006])
def test_cardchannel_reads_the_same_over_t0_and_t1(card: SoftwareCard, fid: int) -> None:
    t1 = CardChannel(SoftwareCardConnection(card))
    t0 = CardChannel(SoftwareCardConnection(card.copy(t0=True)))
    assert t1.extended_length and not t0.extended_length
    t1_data, t0_data = _read_file(t1, fid), _read_file(t0, fid)
    assert t1_data == t0_data and len(t1_data) >= 32
    # T=0 pays one 6Cxx re-send for a short last read (EF size not a multiple of 256).
    extra = 1 if len(t1_data) % 256 else 0
    assert t0.apdu_count == t1.apdu_count + extra


def test_cardchannel_signs_the_same_over_t0_and_t1(card: SoftwareCard) -> None:
    t1 = CardChannel(SoftwareCardConnection(card))
    t0 = CardChannel(SoftwareCardConnection(card.copy(t0=True)))
    before = t0.apdu_count
    signature = _sign(t0)
    assert t0.apdu_count - before == 6  # 5 commands + one GET RESPONSE
    assert signature == _sign(t1) and len(signature) == 256


def test_cardchannel_short_token_info_read_uses_6cxx(card: SoftwareCard) -> None:
    channel = CardChannel(SoftwareCardConnection(card.copy(t0=True)))
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex(SELECT_JPKI[10:])))
    channel.transmit_checked(CommandApdu(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("0006")))
    response = channel.transmit(CommandApdu(0x00, 0xB0, 0, 0, le=256))
    assert response.ok and response.data[:32] == b"JPKIAPICCTOKEN2" + b" " * 17
    assert len(response.data) == 160
    assert response.apdus == 2


def test_connection_protocol_and_removal(card: SoftwareCard) -> None:
    connection = SoftwareCardConnection(card)
    assert isinstance(connection, Connection)
    assert connection.extended_length is True
    assert connection.atr == card.atr
    assert connection.transmit(bytes.fromhex(SELECT_JPKI)) == (b"", 0x9000)
    assert connection.transmit(bytes.fromhex(select_ef(0x0018))) == (b"", 0x9000)
    assert connection.transmit(bytes.fromhex(verify("1234"))) == (b"", 0x9000)
    connection.remove()
    with pytest.raises(CardRemovedError):
        connection.transmit(bytes.fromhex(SELECT_JPKI))
    with pytest.raises(CardRemovedError):
        CardChannel(connection).transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, b"\x01"))
    assert connection.insert() == card.atr
    # Re-inserted: powered up fresh, nothing selected, no PIN verified.
    assert connection.transmit(bytes.fromhex(select_ef(0x0018))) == (b"", 0x6A82)
    connection.transmit(bytes.fromhex(SELECT_JPKI))
    connection.transmit(bytes.fromhex(select_ef(0x0018)))
    assert connection.transmit(bytes.fromhex(PIN_STATUS)) == (b"", 0x63C3)


def test_connection_powers_up_an_unpowered_card(card: SoftwareCard) -> None:
    card.power_off()
    connection = SoftwareCardConnection(card)
    assert connection.transmit(bytes.fromhex(SELECT_JPKI)) == (b"", 0x9000)
