"""Conformance rows for the card-info input-helper applet (券面入力補助 AP,
real-card-notes.md §2), written from the notes alone as raw APDUs. The persona is
yamada-taro (simulators/personas.toml): My Number 123456789018 (照合番号A), 照合番号B
60041220352285 (Shōwa 60-04-12, expiry 2035, security code 2285), PIN 1234."""

from __future__ import annotations

from tests.conformance.facts import Fact, Step

TEXT_AID = "D3921000310001010408"
SELECT_TEXT = Step(f"00A4040C0A{TEXT_AID}", "9000")
MY_NUMBER = "313233343536373839303138"  # "123456789018"
CODE_B = "3630303431323230333532323835"  # "60041220352285"
PIN = "31323334"  # "1234"
SHA256_DIGEST_INFO = "3031300D060960864801650304020105000420" + "AB" * 32


def select(fid: int, sw: str = "9000") -> Step:
    return Step(f"00A4020C02{fid:04X}", sw)


def verify(fid: int, secret_hex: str, sw: str = "9000") -> tuple[Step, Step]:
    return select(fid), Step(f"00200080{len(secret_hex) // 2:02X}{secret_hex}", sw)


def read(fid: int, sw: str, *, le: int = 0, offset: int = 0, **expect: object) -> tuple[Step, Step]:
    return select(fid), Step(f"00B0{offset:04X}{le:02X}", sw, **expect)  # type: ignore[arg-type]


FACTS: list[Fact] = [
    Fact(
        "§2 Text AP: 照合番号A opens 0001, not 0002 [obs]",
        "After VERIFY of key 0014 with the My Number, EF 0001 reads and EF 0002 gives 6982.",
        (SELECT_TEXT, *verify(0x0014, MY_NUMBER), *read(0x0001, "9000"), *read(0x0002, "6982")),
    ),
    Fact(
        "§2 Text AP: 照合番号B opens 0002, not 0001 [obs]",
        "After VERIFY of key 0015 with 照合番号B, EF 0002 reads and EF 0001 gives 6982.",
        (SELECT_TEXT, *verify(0x0015, CODE_B), *read(0x0002, "9000"), *read(0x0001, "6982")),
    ),
    Fact(
        "§2 Text AP: the PIN opens 0001 and 0002 [obs]",
        "After VERIFY of the PIN (0011) both EF 0001 and EF 0002 read.",
        (SELECT_TEXT, *verify(0x0011, PIN), *read(0x0001, "9000"), *read(0x0002, "9000")),
    ),
    Fact(
        "§2 Text AP: nothing read without a credential [obs]",
        "Without a verified key EFs 0001, 0002, 0003, 0006 and 0007 give 6982.",
        (
            SELECT_TEXT,
            *read(0x0001, "6982"),
            *read(0x0002, "6982"),
            *read(0x0003, "6982"),
            *read(0x0006, "6982"),
            *read(0x0007, "6982"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0001: 17 physical bytes [obs]",
        "EF 0001 is FF 10 0C, the 12 ASCII digits of the My Number, FF FF: 17 bytes.",
        (
            SELECT_TEXT,
            *verify(0x0014, MY_NUMBER),
            *read(0x0001, "9000", data=f"FF100C{MY_NUMBER}FFFF"),
            Step("00B0001101", "6B00"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0002: DF21 offsets count from byte 0 to each tag [obs]",
        "The offsets point from the FF of FF20 to the tag bytes of DF22-DF25; DF22 is at "
        "0x0E (header 3 bytes + DF21 object 11 bytes).",
        (
            SELECT_TEXT,
            *verify(0x0011, PIN),
            # name 15 bytes, address 47 bytes (yamada-taro), birth date 8, sex 1
            *read(0x0002, "9000", le=0x0E, data="FF205E DF2108 000E 0020 0052 005D"),
            Step("00B0000E03", "9000", data="DF220F"),
            Step("00B0002002", "9000", data="DF23"),
            Step("00B000520B", "9000", data="DF2408" + "3139383530343132"),
            Step("00B0005D04", "9000", data="DF250131"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0003: FF30 82014B, 336 bytes [obs]",
        "EF 0003 opens with either code; it is FF30 82014B { DF31 20, DF32 20, DF33 820100 }.",
        (
            SELECT_TEXT,
            *verify(0x0014, MY_NUMBER),
            *read(0x0003, "9000", le=8, data="FF3082014B DF3120"),
            Step("00B0002803", "9000", data="DF3220"),
            Step("00B0004B05", "9000", data="DF33820100"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0003 with 照合番号B [obs]",
        "照合番号B opens EF 0003 too.",
        (SELECT_TEXT, *verify(0x0015, CODE_B), *read(0x0003, "9000", le=5, data="FF3082014B")),
    ),
    Fact(
        "§2 Text AP key 0012: blocked as issued [obs]",
        "The empty status query on key 0012 answers 63C0; a VERIFY with data answers 6984.",
        (SELECT_TEXT, select(0x0012), Step("00200080", "63C0"), Step(f"0020008004{PIN}", "6984")),
    ),
    Fact(
        "§2 / §3 Text AP 照合番号B: ten attempts [src]",
        "Key 0015's status query shows 10 tries (63CA); a wrong code spends one (63C9).",
        (
            SELECT_TEXT,
            select(0x0015),
            Step("00200080", "63CA"),
            Step("002000800E" + "3630303431323230333530303030", "63C9"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0004: CV certificate, free [obs]",
        "EF 0004 reads without a credential; it is a 7F21 CV certificate issued by the "
        "test issuer key 6000033.",
        (SELECT_TEXT, *read(0x0004, "9000", le=17, data="7F21820233 5F4E820129 36303030303333")),
    ),
    Fact(
        "§2 Text AP EF 0005: FF40 key info, free [obs]",
        "EF 0005 is FF40 { DF41 04 01 03 0E 01, DF42 10 key id 6000034/001, DF43 8180 }.",
        (
            SELECT_TEXT,
            *read(0x0005, "9000", le=11, data="FF40819E DF410401030E01"),
            Step("00B0000B0A", "9000", data="DF4210 36303030303334"),
            Step("00B0001E04", "9000", data="DF438180"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0006: A1 RSA key, PIN or either code [obs]",
        "EF 0006 opens with 照合番号B and holds A1 { 90 exponent, 91 modulus } (RSA-2048).",
        (
            SELECT_TEXT,
            *verify(0x0015, CODE_B),
            *read(0x0006, "9000", le=13, data="A1820109 9003010001 91820100"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0007: FF50 820213, PIN or either code [obs]",
        "EF 0007 opens with 照合番号A and is FF50 820213 { DF51 the AP key (90/91), DF52 }.",
        (
            SELECT_TEXT,
            *verify(0x0014, MY_NUMBER),
            *read(0x0007, "9000", le=11, data="FF50820213 DF51820109 90"),
        ),
    ),
    Fact(
        "§2 Text AP EF 0008: sixteen FF [obs]",
        "EF 0008 holds sixteen FF bytes.",
        (SELECT_TEXT, *read(0x0008, "9000", data="FF" * 16)),
    ),
    Fact(
        "§2 Text AP signing: 80 2A 00 00 needs no credential [obs]",
        "COMPUTE DIGITAL SIGNATURE with P2=00 signs a SHA-256 DigestInfo with the AP's "
        "own key, no key verified: 256 bytes.",
        (SELECT_TEXT, Step(f"802A000033{SHA256_DIGEST_INFO}00", "9000", length=256)),
    ),
]
