"""The columnar entry walker (what CrlStore uses) against the general walker: the same
entries from every input both accept, a DerError from every input either rejects, and
indexes built from either that are byte-for-byte the same file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from jpki.validation import CrlStore, TrustStore, der
from jpki.validation.crlcolumns import EntryColumns, entry_starts, parse_entries_columns
from jpki.validation.crlindex import CrlIndex, CrlInfo
from jpki.validation.crlparse import DATE_SHIFT, NO_REASON, SERIAL_SHIFT, parse_entries_packed
from jpki.validation.der import DerError
from tests.jpki.conftest import NOW, MiniPki, partition_name
from tests.jpki.fuzzing import FUZZ_SETTINGS, mutated

REASON_EXT = bytes.fromhex("300c300a0603551d1504030a01")
INVALIDITY_EXT = der.encode_tlv(
    0x30,
    der.encode_tlv(
        0x30,
        b"\x06\x03\x55\x1d\x18" + der.encode_tlv(0x04, der.encode_tlv(0x18, b"20250101000000Z")),
    ),
)
CRITICAL_UNKNOWN = bytes.fromhex("300f300d0603551d1d0101ff0403300100")


def packed_of(columns: EntryColumns) -> list[int]:
    keys = [
        s << SERIAL_SHIFT | d << DATE_SHIFT | r
        for s, d, r in zip(
            columns.serials.tolist(), columns.dates.tolist(), columns.reasons.tolist(), strict=True
        )
    ]
    return sorted(keys + columns.wide)


def both(data: bytes, start: int, end: int, cap: int = 1000) -> list[int] | str:
    """The entries both walkers found (sorted), or "error" when both raised DerError;
    fails the test when they disagree."""
    try:
        expected: list[int] | str = sorted(parse_entries_packed(data, start, end, cap))
    except DerError:
        expected = "error"
    try:
        got: list[int] | str = packed_of(parse_entries_columns(data, start, end, cap))
    except DerError:
        got = "error"
    assert got == expected
    return got


def entry(serial: bytes, when: bytes, extensions: bytes = b"", tag: int = 0x17) -> bytes:
    return der.encode_tlv(
        0x30, der.encode_tlv(0x02, serial) + der.encode_tlv(tag, when) + extensions
    )


def as_list(entries: list[bytes]) -> tuple[bytes, int, int]:
    data = der.encode_tlv(0x30, b"".join(entries))
    return data, len(data) - sum(map(len, entries)), len(data)


def minimal(serial: int) -> bytes:
    """The content octets of a positive INTEGER in DER."""
    raw = serial.to_bytes(serial.bit_length() // 8 + 1, "big")  # room for the sign bit
    return raw[1:] if len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80 else raw


UTC_TIME = b"250101000000Z"


def test_common_shapes_decode_in_bulk() -> None:
    serials = [1, 0x7F, 0x80, 0xFFFF, 2**31, 2**32 - 1, 2**32, 2**56, 2**63, 2**64 - 1]
    entries = [entry(minimal(s), UTC_TIME, REASON_EXT + bytes([s % 7])) for s in serials]
    entries += [entry(minimal(s + 5), UTC_TIME) for s in serials[:-1]]
    data, start, end = as_list(entries)
    columns = parse_entries_columns(data, start, end, 100)
    assert columns.wide == []  # all below 2**64: none took the general walker's route
    when = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    assert packed_of(columns) == sorted(
        [s << SERIAL_SHIFT | when << DATE_SHIFT | s % 7 for s in serials]
        + [(s + 5) << SERIAL_SHIFT | when << DATE_SHIFT | NO_REASON for s in serials[:-1]]
    )
    assert both(data, start, end) == packed_of(columns)


def test_other_shapes_take_the_general_walker() -> None:
    entries = [
        entry(minimal(2**64), UTC_TIME),  # wide serials
        entry(minimal(2**159 - 1), UTC_TIME, REASON_EXT + b"\x01"),
        entry(minimal(7), b"20250101000000Z", tag=0x18),  # GeneralizedTime
        entry(minimal(8), UTC_TIME, INVALIDITY_EXT),  # another extension
        entry(minimal(9), UTC_TIME),  # the common shape again, after the odd ones
        entry(minimal(10), UTC_TIME, REASON_EXT + b"\x04"),
    ]
    # An entry of 128+ bytes: a long-form length the hop must follow.
    big_ext = der.encode_tlv(
        0x30, der.encode_tlv(0x30, b"\x06\x03\x2a\x03\x04" + der.encode_tlv(0x04, b"\x00" * 140))
    )
    entries.append(entry(minimal(11), UTC_TIME, big_ext))
    data, start, end = as_list(entries)
    found = both(data, start, end)
    assert isinstance(found, list)
    assert sorted(k >> SERIAL_SHIFT for k in found) == [7, 8, 9, 10, 11, 2**64, 2**159 - 1]


@pytest.mark.parametrize(
    "bad",
    [
        entry(b"\x80", UTC_TIME),  # negative
        entry(b"\x00", UTC_TIME),  # zero
        entry(b"\x00\x01", UTC_TIME),  # non-minimal
        entry(b"\x00" + b"\x80" + b"\x00" * 20, UTC_TIME),  # 22 bytes
        entry(b"\x01", b"250101000000X"),
        entry(b"\x01", b"25010100000aZ"),
        entry(b"\x01", b"251301000000Z"),  # month 13
        entry(b"\x01", b"250229000000Z"),  # 2025 is not a leap year
        entry(b"\x01", b"250431000000Z"),  # April 31
        entry(b"\x01", b"250101240000Z"),
        entry(b"\x01", b"250101006000Z"),
        entry(b"\x01", b"250101000060Z"),
        entry(b"\x01", b"690101000000Z"),  # 1969: before the epoch
        entry(b"\x01", UTC_TIME, REASON_EXT + b"\x07"),  # reason 7 is unassigned
        entry(b"\x01", UTC_TIME, REASON_EXT + b"\x0b"),
        entry(b"\x01", UTC_TIME, REASON_EXT[:-1] + b"\x02\x01"),  # INTEGER, not ENUMERATED
        entry(b"\x01", UTC_TIME, CRITICAL_UNKNOWN),
        entry(b"\x01", UTC_TIME, b"\x05\x00"),
        entry(b"\x01", UTC_TIME, REASON_EXT + b"\x01\x00"),  # a byte after the extensions
    ],
)
def test_bad_entries_are_rejected_by_both(bad: bytes) -> None:
    good = entry(minimal(0x123456), UTC_TIME)
    for entries in ([bad], [good, bad, good], [good] * 3 + [bad]):
        data, start, end = as_list(entries)
        assert both(data, start, end) == "error"


def test_good_leap_days_and_limits() -> None:
    times = [b"000229000000Z", b"240229235959Z", b"491231235959Z", b"700101000000Z"]
    data, start, end = as_list([entry(minimal(i + 1), t) for i, t in enumerate(times)])
    found = both(data, start, end)
    assert isinstance(found, list) and len(found) == 4


def test_every_day_from_1970_to_2049() -> None:
    day, entries = date(1970, 1, 1), []
    serial = 1
    while day.year < 2050:
        clock = f"{serial % 24:02d}{serial % 60:02d}{(serial * 7) % 60:02d}"
        entries.append(entry(minimal(serial), f"{day:%y%m%d}{clock}Z".encode()))
        day += timedelta(days=1)
        serial += 1
    data, start, end = as_list(entries)
    columns = parse_entries_columns(data, start, end, len(entries))
    assert len(columns) == len(entries)
    assert packed_of(columns) == sorted(parse_entries_packed(data, start, end, len(entries)))


def test_lying_lengths_and_truncation() -> None:
    good = entry(minimal(0x10001), UTC_TIME, REASON_EXT + b"\x01")
    data, start, end = as_list([good, good])
    for cut in range(start + 1, end):
        if cut != start + len(good):  # a whole first entry is a valid list
            assert both(data[:cut], start, cut) == "error"
    for position in range(start, end):
        liar = bytearray(data)
        liar[position] ^= 0x40
        both(bytes(liar), start, end)  # agreement is the assertion


def test_entry_at_the_start_of_the_buffer_and_tiny_buffers() -> None:
    body = entry(b"\x05", UTC_TIME)  # its serial window would start before byte 0
    assert both(body, 0, len(body)) == [5 << SERIAL_SHIFT | 1735689600 << DATE_SHIFT | 255]
    for tiny in (b"", b"\x30", b"\x30\x00", b"\x30\x02\x30\x00", b"\x30\x01"):
        assert both(tiny, 0, len(tiny)) in ([], "error")


def test_entry_cap() -> None:
    data, start, end = as_list([entry(minimal(s), UTC_TIME) for s in range(1, 4)])
    assert len(entry_starts(data, start, end, 3)) == 3
    with pytest.raises(DerError, match="more than 2"):
        parse_entries_columns(data, start, end, 2)


SERIALS = st.one_of(
    st.integers(1, 2**32 - 1),
    st.integers(2**32, 2**64 - 1),
    st.integers(2**64, 2**167),
).map(minimal) | st.binary(min_size=0, max_size=23)
TIMES = st.one_of(
    st.tuples(*(st.integers(0, 99) for _ in range(6))).map(
        lambda t: ("%02d" * 6 % t).encode() + b"Z"
    ),
    st.binary(min_size=13, max_size=13),
)
EXTENSIONS = st.one_of(
    st.just(b""),
    st.integers(0, 12).map(lambda r: REASON_EXT + bytes([r])),
    st.sampled_from([INVALIDITY_EXT, CRITICAL_UNKNOWN, REASON_EXT[:-1]]),
    st.binary(max_size=16),
)
ENTRIES = st.lists(st.tuples(SERIALS, TIMES, EXTENSIONS), min_size=1, max_size=12)


@FUZZ_SETTINGS
@given(ENTRIES)
def test_walkers_agree_on_generated_entries(parts: list[tuple[bytes, bytes, bytes]]) -> None:
    data, start, end = as_list([entry(s, t, x) for s, t, x in parts])
    both(data, start, end)


GOOD_LIST = as_list(
    [
        entry(minimal(s), UTC_TIME, REASON_EXT + bytes([s % 5]) if s % 2 else b"")
        for s in range(1, 9)
    ]
    + [entry(minimal(2**70 + 3), UTC_TIME)]
)[0]


@FUZZ_SETTINGS
@given(mutated(GOOD_LIST))
def test_walkers_agree_on_mutations(data: bytes) -> None:
    try:
        start, end = der.expect(data, 0, len(data), 0x30)
    except DerError:
        start, end = 2, len(data)
    both(data, min(start, len(data)), end)


@FUZZ_SETTINGS
@given(st.lists(st.integers(1, 2**80), max_size=40))
def test_index_from_columns_equals_index_from_packed(serials: list[int]) -> None:
    # Duplicates (the same serial twice, other date or reason) and any order.
    serials = serials + serials[: len(serials) // 3]
    entries = [
        entry(minimal(s), f"25{1 + i % 12:02d}01000000Z".encode(), REASON_EXT + bytes([i % 3]))
        for i, s in enumerate(serials)
    ]
    data, start, end = as_list(entries)
    info = CrlInfo("p", "i", "00", 1, NOW, NOW, 0, "0")
    from_packed = CrlIndex.build_packed(info, parse_entries_packed(data, start, end, 100))
    from_columns = CrlIndex.build_columns(info, parse_entries_columns(data, start, end, 100))
    assert from_columns.to_bytes() == from_packed.to_bytes()
    for serial in serials:
        assert from_columns.find(serial) == from_packed.find(serial) is not None


def test_index_of_sorted_columns_skips_nothing() -> None:
    data, start, end = as_list([entry(minimal(s), UTC_TIME) for s in (3, 5, 2**40, 2**40 + 1)])
    info = CrlInfo("p", "i", "00", 1, NOW, NOW, 0, "0")
    index = CrlIndex.build_columns(info, parse_entries_columns(data, start, end, 10))
    assert [index.find(s) is not None for s in (3, 4, 5, 2**40, 2**40 + 1, 2**40 + 2)] == [
        True,
        False,
        True,
        True,
        True,
        False,
    ]
    assert (
        index.to_bytes()
        == CrlIndex.build_packed(info, parse_entries_packed(data, start, end, 10)).to_bytes()
    )


def test_store_reads_every_entry_as_cryptography_does(auth_pki: MiniPki, tmp_path: Path) -> None:
    """End to end through CrlStore (which uses the columnar walker), against
    cryptography's reading of a builder-made CRL, then again after a restart."""
    reasons = [None, x509.ReasonFlags.key_compromise, x509.ReasonFlags.superseded]
    serials = [*range(1, 400, 3), 2**32 - 1, 2**32, 2**63 + 7, 2**64 - 1, 2**64, 2**150 + 9]
    revoked = [
        (s, NOW - timedelta(days=s % 900, seconds=s % 86400), reasons[s % 3]) for s in serials
    ]
    crl = auth_pki.crl(revoked=revoked)
    partition = partition_name("auth", "Tsukuba-shi")
    CrlStore(tmp_path).load(crl, TrustStore(auth_pki.anchors), partition=partition, at=NOW)
    restarted = CrlStore(tmp_path, trust=TrustStore(auth_pki.anchors))
    for entry_ in x509.load_der_x509_crl(crl):
        found = restarted.lookup(partition, entry_.serial_number, at=NOW)
        assert found is not None
        assert found.revoked_at == entry_.revocation_date_utc
        try:
            reason: str | None = entry_.extensions.get_extension_for_class(
                x509.CRLReason
            ).value.reason.value
        except x509.ExtensionNotFound:
            reason = None
        assert found.reason == reason
    for absent in (2, 3, 2**32 + 1, 2**64 + 1, 2**150 + 8):
        assert restarted.lookup(partition, absent, at=NOW) is None
