"""Conformance rows for the card-surface applet (券面事項確認 AP, real-card-notes.md §3),
written from the notes alone as raw APDUs. Persona yamada-taro: birth date 1985-04-12
(Shōwa 60: key 600412), My Number 123456789018 (照合番号A), 照合番号B 60041220352285."""

from __future__ import annotations

from tests.conformance.facts import Fact, Step

SURFACE_AID = "D3921000310001010402"
SELECT_SURFACE = Step(f"00A4040C0A{SURFACE_AID}", "9000")
BIRTH = "363030343132"  # "600412"
MY_NUMBER = "313233343536373839303138"
CODE_B = "3630303431323230333532323835"
SHA256_DIGEST_INFO = "3031300D060960864801650304020105000420" + "CD" * 32


def select(fid: int, sw: str = "9000") -> Step:
    return Step(f"00A4020C02{fid:04X}", sw)


def verify(fid: int, secret_hex: str, sw: str = "9000") -> tuple[Step, Step]:
    return select(fid), Step(f"00200080{len(secret_hex) // 2:02X}{secret_hex}", sw)


def read(fid: int, sw: str, *, le: int = 0, offset: int = 0, **expect: object) -> tuple[Step, Step]:
    return select(fid), Step(f"00B0{offset:04X}{le:02X}", sw, **expect)  # type: ignore[arg-type]


FACTS: list[Fact] = [
    Fact(
        "§3 Surface: the birth date opens 0001 only [obs]",
        "After VERIFY of key 0011 with the era birth date, EF 0001 reads; 0002, 0005 and "
        "0006 give 6982.",
        (
            SELECT_SURFACE,
            *verify(0x0011, BIRTH),
            *read(0x0001, "9000"),
            *read(0x0002, "6982"),
            *read(0x0005, "6982"),
            *read(0x0006, "6982"),
        ),
    ),
    Fact(
        "§3 Surface: 照合番号A reaches 0002-0006 [obs]",
        "After VERIFY of key 0013 with the My Number, EFs 0002-0006 read and 0001 does not.",
        (
            SELECT_SURFACE,
            *verify(0x0013, MY_NUMBER),
            *read(0x0002, "9000"),
            *read(0x0003, "9000"),
            *read(0x0004, "9000"),
            *read(0x0005, "9000"),
            *read(0x0006, "9000"),
            *read(0x0001, "6982"),
        ),
    ),
    Fact(
        "§3 Surface: 照合番号B reaches the same without 0005 [obs]",
        "After VERIFY of key 0012 with 照合番号B, EFs 0002, 0003, 0004 and 0006 read; 0005 "
        "gives 6982.",
        (
            SELECT_SURFACE,
            *verify(0x0012, CODE_B),
            *read(0x0002, "9000"),
            *read(0x0003, "9000"),
            *read(0x0004, "9000"),
            *read(0x0006, "9000"),
            *read(0x0005, "6982"),
        ),
    ),
    Fact(
        "§3 Surface: a wrong birth date spends a try [obs]",
        "A wrong era birth date answers 63Cx and the right one still opens 0001.",
        (
            SELECT_SURFACE,
            *verify(0x0011, "353530323137", "63Cx"),  # 550217: not this persona
            Step(f"0020008006{BIRTH}", "9000"),
            *read(0x0001, "9000", le=5, data="FF1082021E"),
        ),
    ),
    Fact(
        "§3 Surface EF 0001: FF10 82021E age record [obs]",
        "EF 0001 is FF10 82021E { DF11 08 YYYYMMDD, DF12 820109 {90 03 010001, 91 820100}, "
        "DF13 820100 }.",
        (
            SELECT_SURFACE,
            *verify(0x0011, BIRTH),
            *read(0x0001, "9000", le=16, data="FF1082021E DF1108 3139383530343132"),
            Step("00B000100E", "9000", data="DF12820109 9003010001 91820100"),
            Step("00B0011E05", "9000", data="DF13820100"),
            Step("00B0022101", "9000", length=1),
        ),
    ),
    Fact(
        "§3 Surface EF 0002: DF21 with 9 offsets from byte 0 [obs]",
        "EF 0002 is FF20 { DF21 with nine offsets counted as in the text AP, DF22 the "
        "birth date YYYYMMDD first }.",
        (
            SELECT_SURFACE,
            *verify(0x0013, MY_NUMBER),
            *read(0x0002, "9000", offset=5, le=5, data="DF2112 001A"),
            Step("00B0001A0B", "9000", data="DF2208 3139383530343132"),
            Step("00B0002503", "9000", data="DF2301"),
        ),
    ),
    Fact(
        "§3 Surface EF 0003: FF30 key info, free [obs]",
        "EF 0003 reads without a credential: FF30 { DF31 04 06 03 0E 01, DF32 10 key id "
        "6000024/001, DF33 01 00, DF34 05 municipality, DF35 820110 }.",
        (
            SELECT_SURFACE,
            *read(0x0003, "9000", le=12, data="FF3082013B DF310406030E01"),
            Step("00B0000C0A", "9000", data="DF3210 36303030303234"),
            Step("00B0001F04", "9000", data="DF330100"),
            Step("00B0002303", "9000", data="DF3405"),
            Step("00B0002B05", "9000", data="DF35820110"),
        ),
    ),
    Fact(
        "§3 Surface EF 0004: CV certificate 7F21 820233, 568 bytes, free [obs]",
        "EF 0004 is 7F21 820233 { 5F4E 820129 { issuer id 6000023…, subject id, RSA key }, "
        "5F37 820100 }.",
        (
            SELECT_SURFACE,
            *read(0x0004, "9000", le=17, data="7F21820233 5F4E820129 36303030303233"),
            Step("00B0013305", "9000", data="5F37820100"),
            Step("00B0023701", "9000", length=1),
        ),
    ),
    Fact(
        "§3 Surface EF 0005: FF40 My Number image, 照合番号A only [obs]",
        "EF 0005 opens with 照合番号A and is FF40 { DF41 a PNG, … }.",
        (
            SELECT_SURFACE,
            *verify(0x0013, MY_NUMBER),
            *read(0x0005, "9000", le=4),
        ),
    ),
    Fact(
        "§3 Surface EF 0006: sixteen FF [obs]",
        "EF 0006 holds sixteen FF bytes.",
        (SELECT_SURFACE, *verify(0x0013, MY_NUMBER), *read(0x0006, "9000", data="FF" * 16)),
    ),
    Fact(
        "§3 Surface: the card key signs with 80 2A 00 00, no credential [obs]",
        "COMPUTE DIGITAL SIGNATURE with P2=00 signs with the card key without a verified "
        "key: 256 bytes.",
        (SELECT_SURFACE, Step(f"802A000033{SHA256_DIGEST_INFO}00", "9000", length=256)),
    ),
    Fact(
        "§3 Surface: 照合番号B counter allows ten attempts [src]",
        "Key 0012's status query shows 10 tries (63CA).",
        (SELECT_SURFACE, select(0x0012), Step("00200080", "63CA")),
    ),
    Fact(
        "§3 / §5 Surface: SET SESSION KEY gives 66F1 [obs]",
        "The surface AP has no secure messaging: SET SESSION KEY answers 66F1.",
        (SELECT_SURFACE, Step("80AE0000000100" + "00" * 256, "66F1")),
    ),
    Fact(
        "§3 Surface: the 券面 signing key refuses INTERNAL AUTHENTICATE [obs]",
        "INTERNAL AUTHENTICATE on the surface AP's card key answers 6985 (the card key's "
        "EF id, 0014, is this card's choice: real cards reach it by P2=00 only).",
        (SELECT_SURFACE, Step("00880094" + "08" + "0102030405060708" + "00", "6985")),
    ),
]
