"""EF 0006 / EF 0008 parsing on bytes built from the layout in real-card-notes.md §1."""

from __future__ import annotations

import struct

import pytest

from card.errors import MalformedResponseError
from jpki.token_info import CertificateAvailability, TokenInfo, TokenKind


def token_info(label: bytes = b"JPKIAPICCTOKEN2") -> bytes:
    words = struct.pack(">11I", 0x040D, 1, 0, 1, 0, 16, 6, *([0xFFFFFFFF] * 4))
    return (
        label.ljust(32)
        + b"0000000000000001".ljust(32)
        + b"E16R01NJ".ljust(16)
        + b"123456789012345".ljust(16)
        + words
        + b"0301"
        + b" " * 16
    )


def test_a_physical_card() -> None:
    info = TokenInfo.parse(token_info())
    assert info.kind is TokenKind.CARD
    assert (info.manufacturer, info.model, info.serial) == (
        "0000000000000001",
        "E16R01NJ",
        "123456789012345",
    )
    assert (info.max_sessions, info.sessions, info.max_rw_sessions, info.rw_sessions) == (
        1,
        0,
        1,
        0,
    )
    assert (info.hardware_version, info.firmware_version) == (b"03", b"01")


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        (b"JPKIAPGPSETOKEN", TokenKind.ANDROID),
        (b"JPKIAPIOSTOKEN", TokenKind.IPHONE),
        (b"SOMETHINGELSE", TokenKind.OTHER),
    ],
)
def test_phone_tokens_and_others(label: bytes, kind: TokenKind) -> None:
    assert TokenInfo.parse(token_info(label)).kind is kind


@pytest.mark.parametrize("size", [0, 32, 159, 161, 256])
def test_any_other_size_is_malformed(size: int) -> None:
    with pytest.raises(MalformedResponseError):
        TokenInfo.parse(token_info().ljust(size, b" ")[:size])


def test_non_ascii_text_is_malformed() -> None:
    raw = bytearray(token_info())
    raw[40] = 0xFF
    with pytest.raises(MalformedResponseError):
        TokenInfo.parse(bytes(raw))


def test_certificate_availability() -> None:
    both = CertificateAvailability.parse(b"\x8f\x8f\x00")
    assert both.sign_certificate and both.auth_certificate
    no_sign = CertificateAvailability.parse(b"\x00\x8f\x00")  # e.g. a child's card
    assert not no_sign.sign_certificate and no_sign.auth_certificate
    for raw in (b"\x8f\x8f", b"\x8f" * 16):
        with pytest.raises(MalformedResponseError):
            CertificateAvailability.parse(raw)
