"""The DER walker and the revokedCertificates parser, against hex tables and against
cryptography's own reading of builder-made CRLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from jpki.validation import der
from jpki.validation.crlindex import CrlIndex, CrlInfo, IndexFileError
from jpki.validation.crlparse import NO_REASON, parse_entries, split_crl
from jpki.validation.der import DerError
from tests.jpki.conftest import NOW, MiniPki


@pytest.mark.parametrize(
    ("hexdata", "expected"),
    [
        ("0200", (0x02, 2, 2)),
        ("300100", (0x30, 2, 3)),
        ("0481800" + "0" * 255, (0x04, 3, 131)),
        ("04820100" + "00" * 256, (0x04, 4, 260)),
    ],
)
def test_read_header_table(hexdata: str, expected: tuple[int, int, int]) -> None:
    data = bytes.fromhex(hexdata if len(hexdata) % 2 == 0 else hexdata + "0")
    assert der.read_header(data, 0, len(data)) == expected


@pytest.mark.parametrize(
    "hexdata",
    [
        "",  # empty
        "30",  # no length
        "3080",  # indefinite length
        "1f0100",  # high tag number
        "300500",  # content past end
        "30817f" + "00" * 127,  # long form for a short length
        "3082007f" + "00" * 127,  # leading zero length octet
        "3085" + "0000000001",  # 5 length octets
    ],
)
def test_read_header_rejects(hexdata: str) -> None:
    data = bytes.fromhex(hexdata)
    with pytest.raises(DerError):
        der.read_header(data, 0, len(data))


@pytest.mark.parametrize(
    ("tag", "text", "expected"),
    [
        (0x17, b"250101000000Z", datetime(2025, 1, 1, tzinfo=UTC)),
        (0x17, b"491231235959Z", datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (0x17, b"500101000000Z", datetime(1950, 1, 1, tzinfo=UTC)),
        (0x18, b"20500101000000Z", datetime(2050, 1, 1, tzinfo=UTC)),
    ],
)
def test_decode_time(tag: int, text: bytes, expected: datetime) -> None:
    assert der.decode_time(tag, text) == int(expected.timestamp())


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        (0x17, b"2501010000Z"),
        (0x17, b"250101000000+"),
        (0x17, b"251301000000Z"),
        (0x17, b"25 101000000Z"),
        (0x18, b"250101000000Z"),
        (0x04, b"250101000000Z"),
        (0x17, b"250230000000Z"),
        (0x17, b"2501010000+0Z"),
    ],
)
def test_decode_time_rejects(tag: int, text: bytes) -> None:
    with pytest.raises(DerError):
        der.decode_time(tag, text)


def test_integer_value() -> None:
    assert der.integer_value(b"\x01") == 1
    assert der.integer_value(b"\x00\x80") == 128
    assert der.integer_value(b"\xff") == -1
    for bad in (b"", b"\x00\x01", b"\xff\x80"):
        with pytest.raises(DerError):
            der.integer_value(bad)


def _entries(body: bytes) -> tuple[list[int], list[int], list[int]]:
    data = der.encode_tlv(0x30, body)
    return parse_entries(data, 2 if len(body) < 128 else 2 + (data[1] & 0x7F), len(data), 100)


UTC_TIME = b"\x17\x0d250101000000Z"
WHEN = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())


def test_entries_hex_table() -> None:
    plain = der.encode_tlv(0x30, b"\x02\x03\x01\x00\x01" + UTC_TIME)
    reason = der.encode_tlv(
        0x30, b"\x02\x02\x00\x80" + UTC_TIME + bytes.fromhex("300c300a0603551d1504030a0101")
    )
    general = der.encode_tlv(
        0x30,
        b"\x02\x01\x05"
        + b"\x18\x0f20250101000000Z"
        + bytes.fromhex(
            "3018"
            "300a0603551d1504030a0104"  # reason superseded
            "300a0603551d1804030a0101"
        ),
    )  # invalidity (noncrit)
    assert _entries(plain + reason + general) == ([0x10001, 0x80, 5], [WHEN] * 3, [NO_REASON, 1, 4])


@pytest.mark.parametrize(
    "entry",
    [
        b"\x02\x01\x80" + UTC_TIME,  # negative serial
        b"\x02\x01\x00" + UTC_TIME,  # zero serial
        b"\x02\x02\x00\x01" + UTC_TIME,  # non-minimal serial
        b"\x02\x00" + UTC_TIME + b"\x00",  # empty serial
        b"\x04\x01\x01" + UTC_TIME,  # not an INTEGER
        b"\x02\x01\x01\x17\x0d250101000000X",  # bad time
        b"\x02\x01\x01\x17\x0d25010100000aZ",
        b"\x02\x01\x01\x17\x0d259901000000Z",  # month 99
        b"\x02\x01\x01" + UTC_TIME + bytes.fromhex("300c300a0603551d1504030a0107"),  # reason 7
        b"\x02\x01\x01"
        + UTC_TIME
        + bytes.fromhex("300f300d0603551d1d0101ff0403300100"),  # certificateIssuer critical
        b"\x02\x01\x01" + UTC_TIME + b"\x30\x03\x30\x01\x06",  # truncated extension
        b"\x02\x01\x01" + UTC_TIME + b"\x05\x00",  # junk after the date
    ],
)
def test_entries_reject(entry: bytes) -> None:
    with pytest.raises(DerError):
        _entries(der.encode_tlv(0x30, entry))


def test_entries_reject_lying_lengths() -> None:
    good = der.encode_tlv(0x30, b"\x02\x01\x01" + UTC_TIME)
    for cut in range(1, len(good)):
        with pytest.raises(DerError):
            _entries(good[:cut])
    liar = bytearray(good)
    liar[1] += 5
    with pytest.raises(DerError):
        _entries(bytes(liar))


def test_entry_cap() -> None:
    body = der.encode_tlv(0x30, b"\x02\x01\x01" + UTC_TIME) * 3
    data = der.encode_tlv(0x30, body)
    with pytest.raises(DerError, match="more than 2"):
        parse_entries(data, 2, len(data), 2)


def test_agrees_with_cryptography(auth_pki: MiniPki) -> None:
    reasons = [
        None,
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.certificate_hold,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.unspecified,
    ]
    revoked = [
        (s, NOW - timedelta(days=s % 400, seconds=s % 86400), reasons[s % 5])
        for s in [
            1,
            127,
            128,
            255,
            256,
            65535,
            2**31,
            2**32 - 1,
            2**32,
            2**63,
            2**64 + 5,
            2**159 - 1,
            *range(1000, 1200),
        ]
    ]
    data = auth_pki.crl(revoked=revoked)
    raw = split_crl(data)
    assert raw.revoked is not None
    serials, dates, codes = parse_entries(data, *raw.revoked, 10_000)
    lib = x509.load_der_x509_crl(data)
    assert raw.tbs_bytes.tobytes() == lib.tbs_certlist_bytes
    assert raw.signature == lib.signature
    by_serial = {r.serial_number: r for r in lib}
    assert sorted(serials) == sorted(by_serial)
    for serial, date, code in zip(serials, dates, codes, strict=True):
        entry = by_serial[serial]
        assert date == int(entry.revocation_date_utc.timestamp())
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        assert (code == NO_REASON) == (reason is None)
    info = CrlInfo("p", "i", "00", 1, NOW, NOW, len(serials), "0")
    index = CrlIndex.build(info, serials, dates, codes)
    for serial, when, reason in revoked:
        found = index.find(serial)
        assert found is not None and found.revoked_at == when.replace(microsecond=0)
        assert found.reason == (None if reason is None else _camel(reason))
        assert index.find(serial + 1 if serial + 1 not in by_serial else -1) is None
    assert index.find(0) is None and index.find(2**200) is None
    again = CrlIndex.from_bytes(index.to_bytes())
    assert all(again.find(s) == index.find(s) for s, _, _ in revoked)
    assert again.nbytes == index.nbytes


def _camel(reason: x509.ReasonFlags) -> str:
    return {
        "key_compromise": "keyCompromise",
        "certificate_hold": "certificateHold",
        "superseded": "superseded",
        "unspecified": "unspecified",
    }[reason.name]


def test_index_file_tamper_detected() -> None:
    info = CrlInfo("p", "i", "00", 1, NOW, NOW, 2, "0")
    blob = CrlIndex.build(info, [5, 9], [1, 2], [1, NO_REASON]).to_bytes()
    for position in (0, 20, len(blob) // 2, len(blob) - 1):
        bad = bytearray(blob)
        bad[position] ^= 0x01
        with pytest.raises(IndexFileError):
            CrlIndex.from_bytes(bytes(bad))
    with pytest.raises(IndexFileError):
        CrlIndex.from_bytes(blob[:-3])


def test_split_rejects_trailing_and_mismatch(auth_pki: MiniPki) -> None:
    data = auth_pki.crl()
    with pytest.raises(DerError):
        split_crl(data + b"\x00")
    with pytest.raises(DerError):
        split_crl(data[:-1])
