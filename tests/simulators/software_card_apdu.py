"""Raw APDU helpers for the software card tests: hex in, (data, SW) out."""

from __future__ import annotations

from simulators.card import SoftwareCard

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_CARD_INFO = "00A4040C0AD3921000310001010408"
SELECT_CARD_SURFACE = "00A4040C0AD3921000310001010402"
SELECT_RESIDENT_REGISTRY = "00A4040C0AD3921000310001010401"
PIN_STATUS = "00200080"

# DigestInfo for SHA-256 is this prefix followed by the 32-byte digest.
SHA256_DIGESTINFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def tx(card: SoftwareCard, apdu_hex: str) -> tuple[bytes, int]:
    response = card.process(bytes.fromhex(apdu_hex))
    assert len(response) >= 2
    return response[:-2], int.from_bytes(response[-2:], "big")


def sw(card: SoftwareCard, apdu_hex: str) -> int:
    return tx(card, apdu_hex)[1]


def select_ef(fid: int) -> str:
    return f"00A4020C02{fid:04X}"


def read_binary(offset: int, le: int) -> str:
    return f"00B0{offset:04X}{le & 0xFF:02X}"


def verify(pin: str) -> str:
    raw = pin.encode("ascii")
    return f"00200080{len(raw):02X}{raw.hex()}"


def change_pin(pin: str) -> str:
    raw = pin.encode("ascii")
    return f"00240180{len(raw):02X}{raw.hex()}"


def compute_signature(data: bytes) -> str:
    return f"802A0080{len(data):02X}{data.hex()}00"


def read_whole_ef(card: SoftwareCard) -> bytes:
    """Read the current EF with Le=00 until the card answers 6B00 (tests only: clients
    size objects from their header)."""
    out = b""
    while True:
        data, status = tx(card, read_binary(len(out), 0))
        if status == 0x6B00:
            return out
        assert status == 0x9000, hex(status)
        out += data
