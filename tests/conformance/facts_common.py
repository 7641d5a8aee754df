"""Conformance rows for the common card applet (共通カード AP, real-card-notes.md §4),
written from the notes alone as raw APDUs."""

from __future__ import annotations

from tests.conformance.facts import Fact, Step

COMMON_AID = "D3921000310001010100"
SELECT_COMMON = Step(f"00A4040C0A{COMMON_AID}", "9000")


def select(fid: int, sw: str = "9000") -> Step:
    return Step(f"00A4020C02{fid:04X}", sw)


FACTS: list[Fact] = [
    Fact(
        "§0 / §4 Common AP is selectable [obs]",
        "SELECT by the common card AP's AID answers 9000.",
        (SELECT_COMMON,),
    ),
    Fact(
        "§4 Common EF 0001 record 1 without a PIN [obs]",
        "READ RECORD 00 B2 01 04 00 of EF 0001 needs no PIN and returns 01 1C + 28 "
        "characters (15-digit serial, 5-digit municipality, YYYYMMDD expiry).",
        (SELECT_COMMON, select(0x0001), Step("00B2010400", "9000", length=30)),
    ),
    Fact(
        "§4 Common EF 0002 key reference [src]",
        "EF 0002 is record-structured and holds one 16-byte key reference.",
        (SELECT_COMMON, select(0x0002), Step("00B2010400", "9000", length=16)),
    ),
    Fact(
        "§4 Common EF 0019 INTERNAL AUTHENTICATE, no credential [obs]",
        "00 88 00 99 with a challenge answers a 256-byte sha256WithRSA signature without "
        "any verified key.",
        (SELECT_COMMON, Step("0088009908010203040506070800", "9000", length=256)),
    ),
    Fact(
        "§4 Common PIN 001C [src]",
        "The common AP has its own PIN 001C; the status query answers 63Cx.",
        (SELECT_COMMON, select(0x001C), Step("00200080", "63Cx")),
    ),
    Fact(
        "§5 Common: SET SESSION KEY gives 66F1 [obs]",
        "The common AP has no secure messaging: SET SESSION KEY answers 66F1.",
        (SELECT_COMMON, Step("80AE0000000100" + "00" * 256, "66F1")),
    ),
    Fact(
        "§4 Common EF 0019 takes 1 to 255 bytes [obs]",
        "INTERNAL AUTHENTICATE on EF 0019 answers a 256-byte signature for a 1-byte and "
        "for a 255-byte challenge.",
        (
            SELECT_COMMON,
            Step("00880099" + "01" + "AA" + "00", "9000", length=256),
            Step("00880099" + "FF" + "BB" * 255 + "00", "9000", length=256),
        ),
    ),
]
