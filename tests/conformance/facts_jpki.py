"""Conformance rows for the JPKI applet (real-card-notes.md §0, §1, §6), written from
the notes alone. Where the notes leave a status word open ("6985 or 6700", "not
given") the row expects only an error (6xxx) and says so in its claim."""

from __future__ import annotations

from tests.conformance.facts import Fact, Step
from tests.conformance.jpki_apdus import (
    AUTH_PIN,
    CARD_INFO_AID,
    DIGEST_INFO,
    HASH,
    JPKI_AID,
    MESSAGE,
    SIGN_PIN,
    select_aid,
    select_ef,
    sign,
    verified_auth,
    verified_sign,
    verify,
)

AUTH_KEY = 0x97  # 80 | 17
SIGN_KEY = 0x9A  # 80 | 1A

_SIGNATURE_INPUTS = {
    0x00: ("PKCS#1 v1.5 over the data as sent (a DigestInfo)", DIGEST_INFO),
    0x01: ("the card hashes with SHA-256 and signs the bare hash", MESSAGE),
    0x02: ("a 32-byte hash, wrapped in a DigestInfo by the card", HASH),
    0x03: ("the card hashes and wraps in a DigestInfo", MESSAGE),
    0x04: ("PSS over a 32-byte hash", HASH),
    0x05: ("the card hashes, then PSS", MESSAGE),
}

FACTS: list[Fact] = [
    Fact(
        "§0 Applets / selection forms",
        "The JPKI AP is selected by name with 00 A4 04 0C, its EFs with 00 A4 02 0C 02.",
        (select_aid(JPKI_AID), select_ef(0x000A), select_ef(0x000B)),
    ),
    Fact(
        "§0 Selecting by an AID prefix [src, JICSAP 4.2(1)]",
        "A leading part of the JPKI AID selects the JPKI AP.",
        (
            Step("00A4040C07D392F000260100", "9000"),
            select_ef(0x0008),
            Step("00B0000000", "9000", data="8F8F00"),
        ),
    ),
    Fact(
        "§1 EFs 000A / 000B [obs]",
        "The auth certificate and its CA certificate are free to read.",
        (
            select_aid(JPKI_AID),
            select_ef(0x000A),
            Step("00B0000004", "9000", length=4),
            select_ef(0x000B),
            Step("00B0000004", "9000", length=4),
        ),
    ),
    Fact(
        "§6 ATR and length limits: plain reads",
        "Plain READ BINARY takes Le up to 256 (00): a certificate EF answers 256 bytes.",
        (
            select_aid(JPKI_AID),
            select_ef(0x000A),
            Step("00B0000000", "9000", length=256),
            Step("00B0010000", "9000", length=256),
        ),
    ),
    Fact(
        "§1 EF 0001 [obs]",
        "The sign certificate needs the sign password (refused before, the SW is not "
        "given; readable after).",
        (
            select_aid(JPKI_AID),
            select_ef(0x0001),
            Step("00B0000004", "6xxx"),
            select_ef(0x001B),
            verify(SIGN_PIN),
            select_ef(0x0001),
            Step("00B0000004", "9000", length=4),
        ),
    ),
    Fact(
        "§1 EF 0006",
        "The token info is exactly 160 bytes, free, starting with the space-padded label "
        "JPKIAPICCTOKEN2.",
        (
            select_aid(JPKI_AID),
            select_ef(0x0006),
            Step("00B0000000", "9000", length=160),
            Step("00B0000020", "9000", data=b"JPKIAPICCTOKEN2".ljust(32).hex()),
        ),
    ),
    Fact(
        "§1 EF 0006 layout [obs]",
        "Bytes 140-143 hold the ASCII hardware version 03 and firmware version 01.",
        (select_aid(JPKI_AID), select_ef(0x0006), Step("00B0008C04", "9000", data="30333031")),
    ),
    Fact(
        "§1 EF 0006 layout (the test's physical card)",
        "Model E16R01NJ, flags 040D, sessions 1/0/1/0, PIN lengths 16/6, memory words "
        "FFFFFFFF, each CK_ULONG 32-bit big-endian.",
        (
            select_aid(JPKI_AID),
            select_ef(0x0006),
            Step("00B0004010", "9000", data=b"E16R01NJ".ljust(16).hex()),
            Step(
                "00B000602C",
                "9000",
                data="0000040D"
                + "00000001000000000000000100000000"
                + "0000001000000006"
                + "FFFFFFFF" * 4,
            ),
        ),
    ),
    Fact(
        "§1 EF 0008 [obs]",
        "EF 0008 is 3 bytes, 8F 8F 00 with both certificates present, free to read.",
        (select_aid(JPKI_AID), select_ef(0x0008), Step("00B0000000", "9000", data="8F8F00")),
    ),
    Fact(
        "§1 EF 0009 [obs]",
        "EF 0009 is protected: no cardholder credential opens it.",
        (
            *verified_auth(),
            select_ef(0x001B),
            verify(SIGN_PIN),
            select_ef(0x0009),
            Step("00B0000000", "6xxx"),
        ),
    ),
    Fact(
        "§1 EF 0016",
        "EF 0016 (the terminal-CA key reference) exists in the JPKI AP.",
        (select_aid(JPKI_AID), select_ef(0x0016)),
    ),
    Fact(
        "§1 EFs 0017 / 0018 / 001A / 001B",
        "The key and PIN EFs are there to select.",
        (
            select_aid(JPKI_AID),
            select_ef(0x0017),
            select_ef(0x0018),
            select_ef(0x001A),
            select_ef(0x001B),
        ),
    ),
    *[
        Fact(
            f"§1 COMPUTE DIGITAL SIGNATURE P1={p1:02X} [obs]",
            f"P1 {p1:02X}: {what}; 256 bytes back, the key named by P2=97 with no SELECT.",
            (*verified_auth(), sign(p1, AUTH_KEY, data)),
        )
        for p1, (what, data) in _SIGNATURE_INPUTS.items()
    ],
    Fact(
        "§1 COMPUTE DIGITAL SIGNATURE P2=9A [obs]",
        "P2 = 80|1A signs with the sign key without a SELECT of the key EF.",
        (*verified_sign(), sign(0x03, SIGN_KEY, MESSAGE)),
    ),
    Fact(
        "§1 COMPUTE DIGITAL SIGNATURE P2=80 [obs]",
        "P2=80 after selecting the key EF signs with that key.",
        (*verified_auth(), select_ef(0x0017), sign(0x00, 0x80, DIGEST_INFO)),
    ),
    Fact(
        "§1 COMPUTE DIGITAL SIGNATURE other P1 [obs]",
        "Any P1 other than 00-05 gives 6A86.",
        (
            *verified_auth(),
            sign(0x06, AUTH_KEY, DIGEST_INFO, "6A86", None),
            sign(0x80, AUTH_KEY, DIGEST_INFO, "6A86", None),
            sign(0xFF, AUTH_KEY, DIGEST_INFO, "6A86", None),
        ),
    ),
    Fact(
        "§1 COMPUTE DIGITAL SIGNATURE input sizes",
        "An input of the wrong length is refused (6985 or 6700; which one is not given): "
        "246 bytes for P1=00, not 32 bytes for P1=02 and 04.",
        (
            *verified_auth(),
            sign(0x00, AUTH_KEY, "00" * 246, "6xxx", None),
            sign(0x02, AUTH_KEY, "11" * 31, "6xxx", None),
            sign(0x02, AUTH_KEY, "11" * 33, "6xxx", None),
            sign(0x04, AUTH_KEY, "11" * 31, "6xxx", None),
            sign(0x00, AUTH_KEY, "00" * 245, "9000"),
        ),
    ),
    Fact(
        "§1 VERIFY short-id form [src]",
        "VERIFY 00 20 00 98 presents the auth PIN (EF 0018) without a SELECT.",
        (select_aid(JPKI_AID), verify(AUTH_PIN, 0x98), sign(0x00, AUTH_KEY, DIGEST_INFO)),
    ),
    Fact(
        "§1 Status query",
        "The VERIFY with no data reports the tries left as 63Cx, spending none.",
        (
            select_aid(JPKI_AID),
            select_ef(0x0018),
            Step("00200080", "63Cx"),
            verify("0000", sw="63Cx"),
            Step("00200080", "63Cx"),
            verify(AUTH_PIN),
        ),
    ),
    Fact(
        "§1 Status query in T=0",
        "The status query sent T=0 style with P3=00 (OpenSC's form) answers 63Cx.",
        (select_aid(JPKI_AID), select_ef(0x0018), Step("0020008000", "63Cx")),
        t0=True,
    ),
    Fact(
        "§1 Blocked keys [obs] (3 tries: jpki-card.md)",
        "The try that uses up the counter answers 63C0, a VERIFY with data then 6984 "
        "(the right PIN too), and the empty status query 63C0.",
        (
            select_aid(JPKI_AID),
            select_ef(0x0018),
            verify("0000", sw="63C2"),
            verify("0000", sw="63C1"),
            verify("0000", sw="63C0"),
            verify(AUTH_PIN, sw="6984"),
            Step("00200080", "63C0"),
            verify("0000", sw="6984"),
            Step("00200080", "63C0"),
        ),
    ),
    Fact(
        "§1 READ BINARY short-id form [src]",
        "READ BINARY 00 B0 <80|sfi> <offset> reads an EF without a SELECT: 8A is EF 000A.",
        (
            select_aid(JPKI_AID),
            Step("00B08A0004", "9000", length=4),
            Step("00B0880000", "9000", data="8F8F00"),
            Step("00B0860020", "9000", data=b"JPKIAPICCTOKEN2".ljust(32).hex()),
        ),
    ),
    Fact(
        "§1 Other commands: SET SESSION KEY [obs]",
        "SET SESSION KEY gives 6982 in the JPKI AP, even with both PINs verified.",
        (
            *verified_auth(),
            select_ef(0x001B),
            verify(SIGN_PIN),
            Step("80AE0000000100" + "00" * 256, "6982"),
        ),
    ),
    Fact(
        "§1 Other commands: CLA 08",
        "CLA 08 (secure messaging) on a read gives 69FC.",
        (select_aid(JPKI_AID), select_ef(0x000A), Step("08B0000000", "69FC")),
    ),
    Fact(
        "§1 Other commands: 80 FC [obs]",
        "80 FC 00 00 (the iPhone profile's command) gives 6700 on a physical card.",
        (select_aid(JPKI_AID), Step("80FC0000", "6700")),
    ),
    Fact(
        "§1 Other commands: INTERNAL AUTHENTICATE",
        "INTERNAL AUTHENTICATE on the PIN-protected keys gives 6982, PIN verified or not.",
        (
            select_aid(JPKI_AID),
            Step("0088009708" + "01" * 8 + "00", "6982"),
            Step("0088009A08" + "01" * 8 + "00", "6982"),
            select_ef(0x0018),
            verify(AUTH_PIN),
            Step("0088009708" + "01" * 8 + "00", "6982"),
        ),
    ),
    Fact(
        "§6 GET CHALLENGE in an AP [obs]",
        "GET CHALLENGE works in the JPKI AP and in another AP.",
        (
            select_aid(JPKI_AID),
            Step("0084000008", "9000", length=8),
            select_aid(CARD_INFO_AID),
            Step("0084000010", "9000", length=16),
        ),
    ),
    Fact(
        "§0 Security status: re-select [src, JICSAP 5.1.3]",
        "Re-selecting the same AP keeps a verified PIN: signing after a re-select works.",
        (*verified_auth(), select_aid(JPKI_AID), sign(0x00, AUTH_KEY, DIGEST_INFO)),
    ),
    Fact(
        "§0 Security status: another application [obs]",
        "Selecting another application clears a verified PIN.",
        (
            *verified_auth(),
            select_aid(CARD_INFO_AID),
            select_aid(JPKI_AID),
            select_ef(0x0018),
            Step("00200080", "63Cx"),
            sign(0x00, AUTH_KEY, DIGEST_INFO, "6xxx", None),
        ),
    ),
]
