"""Session with the common card applet (共通カード AP, real-card-notes.md §4): the card
record (serial, municipality, expiry) read with READ RECORD and no PIN, the key
reference record, and INTERNAL AUTHENTICATE with the key in EF 0019 (no credential; its
public key is nowhere on the card, so the result is returned, not checked here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from card.apdu import CommandApdu
from card.errors import MalformedResponseError
from card.protocol import CardChannel
from jpki.applet import AppletSession
from jpki.constants import Aid, CommonFile, PinKind
from jpki.errors import CardDataError
from jpki.pin import PinStatus

TAG_CARD_RECORD = 0x01
CARD_RECORD_LENGTH = 0x1C
MAX_CHALLENGE = 255
SIGNATURE_SIZE = 256
INTERNAL_AUTH_KEY_P2 = 0x80 | CommonFile.AUTH_KEY  # 99: EF 0019 by short id


@dataclass(frozen=True, slots=True)
class CommonCardRecord:
    serial: str  # 15 digits
    municipality: str  # 5 digits
    expiry: dt.date


def parse_card_record(raw: bytes) -> CommonCardRecord:
    """`01 1C` + 15-digit serial + 5-digit municipality + YYYYMMDD expiry."""
    if len(raw) < 2 + CARD_RECORD_LENGTH or raw[:2] != bytes([TAG_CARD_RECORD, CARD_RECORD_LENGTH]):
        raise CardDataError("common card record: not 01 1C + 28 characters")
    try:
        text = raw[2 : 2 + CARD_RECORD_LENGTH].decode("ascii")
    except UnicodeDecodeError:
        raise CardDataError("common card record is not ASCII") from None
    if not text.isdigit():
        raise CardDataError("common card record: not all digits")
    try:
        expiry = dt.datetime.strptime(text[20:], "%Y%m%d").date()
    except ValueError:
        raise CardDataError("common card record: expiry is not YYYYMMDD") from None
    return CommonCardRecord(text[:15], text[15:20], expiry)


class CommonSession(AppletSession):
    aid = Aid.COMMON

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)

    def read_record(self, file_id: int, number: int = 1) -> bytes:
        """READ RECORD `00 B2 <number> 04 00` of an EF selected first."""
        if not 1 <= number <= 0xFE:
            raise ValueError(f"record number out of range: {number}")
        self.select_file(file_id)
        command = CommandApdu(0x00, 0xB2, number, 0x04, b"", 256)
        return self._check(self.channel.transmit(command), f"READ RECORD {number}").data

    def read_card_record(self) -> CommonCardRecord:
        return parse_card_record(self.read_record(CommonFile.CARD_RECORD))

    def read_key_reference(self) -> bytes:
        return self.read_record(CommonFile.KEY_REFERENCE)

    def internal_authenticate(self, challenge: bytes) -> bytes:
        """`00 88 00 99 Lc <challenge> 00`: sha256WithRSA over the challenge by EF 0019."""
        if not 1 <= len(challenge) <= MAX_CHALLENGE:
            raise ValueError("the challenge is 1 to 255 bytes")
        command = CommandApdu(0x00, 0x88, 0x00, INTERNAL_AUTH_KEY_P2, challenge, 256)
        response = self._check(self.channel.transmit(command), "INTERNAL AUTHENTICATE")
        if len(response.data) != SIGNATURE_SIZE:
            raise MalformedResponseError(
                f"INTERNAL AUTHENTICATE returned {len(response.data)} bytes"
            )
        return response.data

    def pin_status(self) -> PinStatus:
        return self._pin_status(PinKind.COMMON)

    def verify_pin(self, pin: str) -> None:
        self._verify_pin(PinKind.COMMON, pin, check_status_first=True)
