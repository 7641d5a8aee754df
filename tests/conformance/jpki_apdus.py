"""Raw APDUs the JPKI and MF rows of the conformance table are written with (hex), from
real-card-notes.md alone. The PINs are the default persona's documented test PINs."""

from __future__ import annotations

from tests.conformance.facts import Step

JPKI_AID = "D392F000260100000001"
CARD_INFO_AID = "D3921000310001010408"
ISD_AID = "A0000001510000"

AUTH_PIN = "1234"  # yamada-taro's test PINs (simulators/personas.toml)
SIGN_PIN = "TARO2024"

# SHA-256 DigestInfo of 32 zero bytes: a valid P1=00 input.
DIGEST_INFO = "3031300D060960864801650304020105000420" + "00" * 32
HASH = "11" * 32  # a 32-byte "hash" for the pre-hashed schemes
MESSAGE = "6D796E61207465726D" * 4  # 36 bytes for the card-hashing schemes


def select_aid(aid: str, sw: str = "9000") -> Step:
    return Step(f"00A4040C{len(aid) // 2:02X}{aid}", sw)


def select_ef(fid: int, sw: str = "9000") -> Step:
    return Step(f"00A4020C02{fid:04X}", sw)


def verify(pin: str, p2: int = 0x80, sw: str = "9000") -> Step:
    raw = pin.encode("ascii").hex().upper()
    return Step(f"002000{p2:02X}{len(raw) // 2:02X}{raw}", sw)


def sign(p1: int, p2: int, data: str, sw: str = "9000", length: int | None = 256) -> Step:
    return Step(f"802A{p1:02X}{p2:02X}{len(data) // 2:02X}{data}00", sw, length=length)


def verified_auth() -> tuple[Step, ...]:
    """SELECT JPKI, then the auth PIN verified through its EF."""
    return (select_aid(JPKI_AID), select_ef(0x0018), verify(AUTH_PIN))


def verified_sign() -> tuple[Step, ...]:
    return (select_aid(JPKI_AID), select_ef(0x001B), verify(SIGN_PIN))
