"""The card-level data objects (GET DATA `00 CA <tag>` with the MF current,
real-card-notes.md §5): card id, municipality, expiry, CV certificates, the ATR."""

from __future__ import annotations

import datetime as dt
import functools
from enum import IntEnum

from card.apdu import CommandApdu
from card.errors import MalformedResponseError, error_for_sw
from card.protocol import CardChannel
from jpki.constants import Aid

SHORT_LE = 256
EXTENDED_LE = 65536
SW_ABSENT = 0x6A88


class CardObject(IntEnum):
    ISSUER_ID = 0x0042
    CARD_ID = 0x0045  # ASCII
    CARD_RECOGNITION = 0x0066  # GlobalPlatform card recognition data
    MUNICIPALITY = 0x00F0  # 5 ASCII digits
    EXPIRY = 0x00F2  # YYYYMMDD
    INTERMEDIATE_KEY_ID = 0x00F7
    CV_ROOT_TO_INTERMEDIATE = 0x00F8  # over 256 bytes: needs an extended Le
    CV_INTERMEDIATE_TO_KEY = 0x7F21  # missing on older cards
    CONTACT_ATR = 0x5F51  # without TS


@functools.lru_cache(maxsize=64)
def _get_data(tag: int, le: int) -> CommandApdu:
    return CommandApdu(0x00, 0xCA, tag >> 8, tag & 0xFF, b"", le)


class CardObjects:
    """Reads the MF-level objects. Creating it selects the GlobalPlatform ISD, which
    brings back the power-on state (MF current; it also ends verified PINs)."""

    def __init__(self, channel: CardChannel) -> None:
        self.channel = channel
        select = CommandApdu(0x00, 0xA4, 0x04, 0x0C, Aid.ISSUER_SECURITY_DOMAIN.value)
        response = channel.transmit(select)
        if not response.ok:
            raise error_for_sw(response.data, response.sw, "SELECT the card manager (ISD)")

    def get(self, tag: int) -> bytes | None:
        """The object's value, or None when the card says it has none (6A88). Large
        objects need extended length: over a short-only link they raise."""
        le = EXTENDED_LE if self.channel.extended_length else SHORT_LE
        response = self.channel.transmit(_get_data(tag, le))
        if response.sw == SW_ABSENT:
            return None
        if not response.ok:
            raise error_for_sw(response.data, response.sw, f"GET DATA {tag:04X}")
        return response.data

    def _text(self, tag: CardObject) -> str | None:
        value = self.get(tag)
        if value is None:
            return None
        try:
            return value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedResponseError(f"GET DATA {tag:04X} is not ASCII") from exc

    def card_id(self) -> str | None:
        return self._text(CardObject.CARD_ID)

    def municipality(self) -> str | None:
        code = self._text(CardObject.MUNICIPALITY)
        if code is not None and not (len(code) == 5 and code.isdigit()):
            raise MalformedResponseError(f"municipality code {code!r} is not 5 digits")
        return code

    def expiry(self) -> dt.date | None:
        text = self._text(CardObject.EXPIRY)
        if text is None:
            return None
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError as exc:
            raise MalformedResponseError(f"expiry {text!r} is not YYYYMMDD") from exc
