"""Conformance rows for the MF level, logical channels, GET CHALLENGE and GET DATA
(real-card-notes.md §0, §5, §6), written from the notes alone."""

from __future__ import annotations

from tests.conformance.facts import Fact, Step
from tests.conformance.jpki_apdus import (
    ISD_AID,
    JPKI_AID,
    select_aid,
    select_ef,
    verified_auth,
)

_MF_SWEEP = tuple(select_ef(fid, "6A82") for fid in range(0x0001, 0x001E))
_SELECT_JPKI = f"A4040C0A{JPKI_AID}"

FACTS: list[Fact] = [
    Fact(
        "§5 SELECT MF after a reset [obs]",
        "00 A4 00 00 gives 6A86 after a reset.",
        (Step("00A40000", "6A86"),),
    ),
    Fact(
        "§5 SELECT MF with an AP selected [obs]",
        "00 A4 00 00 gives 9000 with an AP selected, and the current DF stays the AP.",
        (
            select_aid(JPKI_AID),
            Step("00A40000", "9000"),
            select_ef(0x0008),
            Step("00B0000000", "9000", data="8F8F00"),
        ),
    ),
    Fact(
        "§5 SELECT 3F00 [obs]",
        "Selecting 3F00 gives 6A82, after a reset and with an AP selected.",
        (
            Step("00A4000C023F00", "6A82"),
            Step("00A4020C023F00", "6A82"),
            select_aid(JPKI_AID),
            Step("00A4000C023F00", "6A82"),
        ),
    ),
    Fact(
        "§5 No EFs at the MF [obs]",
        "A sweep of 0001-001D at the MF finds nothing; 2F10 and 2F11 give 6A82.",
        (*_MF_SWEEP, select_ef(0x2F10, "6A82"), select_ef(0x2F11, "6A82")),
    ),
    Fact(
        "§5 MF EF 001E [obs]",
        "001E can be selected at the MF, but reads give 6981.",
        (select_ef(0x001E), Step("00B0000000", "6981")),
    ),
    Fact(
        "§0 / §5 GlobalPlatform ISD [obs]",
        "Selecting the ISD AID brings back the power-on state: SELECT MF 6A86 again, the "
        "MF-level GET DATA objects back, and no PIN verified.",
        (
            *verified_auth(),
            select_aid(ISD_AID),
            Step("00A40000", "6A86"),
            Step("00CA00F000", "9000", length=5),
            select_aid(JPKI_AID),
            select_ef(0x0018),
            Step("00200080", "63Cx"),
        ),
    ),
    Fact(
        "§0 Logical channels [obs]",
        "Only logical channel 0 works; channels 1-3 answer 6881.",
        (
            Step(f"01{_SELECT_JPKI}", "6881"),
            Step(f"02{_SELECT_JPKI}", "6881"),
            Step(f"03{_SELECT_JPKI}", "6881"),
            Step("0184000008", "6881"),
            Step(f"00{_SELECT_JPKI}", "9000"),
        ),
    ),
    Fact(
        "§6 GET CHALLENGE [obs]",
        "GET CHALLENGE 00 84 00 00 Le returns exactly Le bytes (1-256, 00 meaning 256) at the MF.",
        (
            Step("0084000001", "9000", length=1),
            Step("0084000008", "9000", length=8),
            Step("00840000FF", "9000", length=255),
            Step("0084000000", "9000", length=256),
        ),
    ),
    Fact(
        "§6 GET CHALLENGE parameters [obs]",
        "P1 and P2 must be 00 (refused otherwise, the SW is not given); the extended "
        "form gives 6985.",
        (
            Step("0084010008", "6xxx"),
            Step("0084000108", "6xxx"),
            Step("00840000000008", "6985"),
        ),
    ),
    Fact(
        "§5 GET DATA 0042 / 0045 / 0066 / 00F7 [obs]",
        "The issuer id, card id number, card recognition data and intermediate key id "
        "answer GET DATA at the MF.",
        (
            Step("00CA004200", "9000"),
            Step("00CA004500", "9000"),
            Step("00CA006600", "9000"),
            Step("00CA00F700", "9000"),
        ),
    ),
    Fact(
        "§5 GET DATA 00F0 / 00F2 (§4 formats) [obs]",
        "The municipality (5 digits) and the expiry (YYYYMMDD) answer GET DATA at the MF.",
        (Step("00CA00F000", "9000", length=5), Step("00CA00F200", "9000", length=8)),
    ),
    Fact(
        "§5 GET DATA large objects [obs]",
        "The CV certificates 00F8 and 7F21 need an extended Le: a short Le gives 6700.",
        (
            Step("00CA00F800", "6700"),
            Step("00CA00F8000000", "9000"),
            Step("00CA7F2100", "6700"),
            Step("00CA7F21000000", "9000"),
        ),
    ),
    Fact(
        "§5 GET DATA 5F51 / §6 ATR",
        "5F51 returns the contact ATR without its TS byte: E0 00 FF 81 31 FE 45 14.",
        (Step("00CA5F5100", "9000", data="E000FF8131FE4514"),),
    ),
    Fact(
        "§5 GET DATA absent objects [obs]",
        "An object that is absent gives 6A88.",
        (Step("00CA004100", "6A88"), Step("00CA00F100", "6A88"), Step("00CA7F4900", "6A88")),
    ),
]
