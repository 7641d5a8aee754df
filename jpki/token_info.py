"""JPKI EF 0006 (a PKCS#11 CK_TOKEN_INFO stored with 32-bit big-endian words, 160
bytes, no TLV) and EF 0008 (which certificates the card holds) as typed values."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from card.errors import MalformedResponseError
from jpki.constants import (
    CERT_PRESENT,
    TOKEN_INFO_ANDROID,
    TOKEN_INFO_IPHONE,
    TOKEN_INFO_LENGTH,
    TOKEN_INFO_MYNUMBER_CARD,
    TOKEN_LABEL_LENGTH,
)

_WORDS = struct.Struct(">11I")  # flags, 4 session counts, 2 PIN lengths, 4 memory words
CERT_AVAILABILITY_LENGTH = 3


class TokenKind(StrEnum):
    """What answers as the JPKI applet: the plastic card or a phone's secure element."""

    CARD = "card"
    ANDROID = "android"
    IPHONE = "iphone"
    OTHER = "other"


_KINDS = {
    TOKEN_INFO_MYNUMBER_CARD: TokenKind.CARD,
    TOKEN_INFO_ANDROID: TokenKind.ANDROID,
    TOKEN_INFO_IPHONE: TokenKind.IPHONE,
}


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("ascii").rstrip(" \x00")
    except UnicodeDecodeError as exc:
        raise MalformedResponseError(f"token info {what} is not ASCII") from exc


@dataclass(frozen=True, slots=True)
class TokenInfo:
    label: str
    manufacturer: str
    model: str
    serial: str
    flags: int
    max_sessions: int
    sessions: int
    max_rw_sessions: int
    rw_sessions: int
    max_pin_length: int
    min_pin_length: int
    memory: tuple[int, int, int, int]  # total/free public, total/free private
    # Kept raw: physical cards put ASCII "03" / "01" here, not CK_VERSION pairs.
    hardware_version: bytes
    firmware_version: bytes
    utc_time: bytes

    @property
    def kind(self) -> TokenKind:
        return _KINDS.get(self.label, TokenKind.OTHER)

    @classmethod
    def parse(cls, raw: bytes) -> TokenInfo:
        if len(raw) != TOKEN_INFO_LENGTH:
            raise MalformedResponseError(f"token info is {len(raw)} bytes, not {TOKEN_INFO_LENGTH}")
        words = _WORDS.unpack_from(raw, 96)
        return cls(
            label=_text(raw[:TOKEN_LABEL_LENGTH], "label"),
            manufacturer=_text(raw[32:64], "manufacturer"),
            model=_text(raw[64:80], "model"),
            serial=_text(raw[80:96], "serial"),
            flags=words[0],
            max_sessions=words[1],
            sessions=words[2],
            max_rw_sessions=words[3],
            rw_sessions=words[4],
            max_pin_length=words[5],
            min_pin_length=words[6],
            memory=(words[7], words[8], words[9], words[10]),
            hardware_version=raw[140:142],
            firmware_version=raw[142:144],
            utc_time=raw[144:160],
        )


@dataclass(frozen=True, slots=True)
class CertificateAvailability:
    """EF 0008: byte 0 the sign certificate, byte 1 the auth certificate (8F when the
    card holds it, the only value seen); byte 2 is not understood and kept raw."""

    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> CertificateAvailability:
        if len(raw) != CERT_AVAILABILITY_LENGTH:
            raise MalformedResponseError(f"EF 0008 is {len(raw)} bytes, not 3")
        return cls(bytes(raw))

    @property
    def sign_certificate(self) -> bool:
        return self.raw[0] == CERT_PRESENT

    @property
    def auth_certificate(self) -> bool:
        return self.raw[1] == CERT_PRESENT
