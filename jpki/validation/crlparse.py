"""Splitting a DER CRL into what verification and indexing need, without re-encoding.

The outer structure and the revokedCertificates entries are walked with the small DER
reader (der.py); the header's issuer and extensions are handed to asn1crypto. The
signature is later verified over `tbs`, the exact bytes that were signed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jpki.validation import der
from jpki.validation.der import DerError

# Entry extension OIDs (2.5.29.21 reasonCode, .24 invalidityDate, .29 certificateIssuer)
_OID_REASON = b"\x55\x1d\x15"
_OID_INVALIDITY = b"\x55\x1d\x18"
# The common encoding of a whole entry-extensions value holding only a reasonCode:
# SEQUENCE OF { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED r } } }
_ONLY_REASON = b"\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01"
NO_REASON = 255  # entry without a reasonCode extension


@dataclass(frozen=True)
class RawCrl:
    """Spans of one CRL. Offsets index into `data`."""

    data: bytes
    tbs: tuple[int, int]  # the whole TBSCertList TLV (the signed bytes)
    tbs_content: tuple[int, int]
    signature_algorithm: bytes  # AlgorithmIdentifier TLV
    tbs_signature_algorithm: bytes
    signature: bytes
    issuer: bytes  # Name TLV
    this_update: int  # epoch seconds
    next_update: int | None
    revoked: tuple[int, int] | None  # content span of revokedCertificates
    revoked_tlv: tuple[int, int] | None  # the same element with its header
    extensions: bytes | None  # Extensions TLV (inside [0])

    @property
    def tbs_bytes(self) -> memoryview:
        return memoryview(self.data)[self.tbs[0] : self.tbs[1]]

    def header_only(self) -> bytes:
        """The CRL with its revokedCertificates removed, for header parsing by a library
        (the signature no longer matches it; it is verified over `tbs_bytes`)."""
        s, e = self.tbs_content
        if self.revoked_tlv is None:
            content = self.data[s:e]
        else:  # slice around the entries: a national CRL's TBS is tens of megabytes
            rs, re_ = self.revoked_tlv
            content = self.data[s:rs] + self.data[re_:e]
        body = (
            der.encode_tlv(0x30, content)
            + self.signature_algorithm
            + der.encode_tlv(0x03, b"\x00" + self.signature)
        )
        return der.encode_tlv(0x30, body)


def split_crl(data: bytes) -> RawCrl:
    """Walk CertificateList and TBSCertList. Raises DerError on anything unexpected,
    including trailing bytes."""
    end = len(data)
    outer_start, outer_end = der.expect(data, 0, end, 0x30)
    if outer_end != end:
        raise DerError("trailing bytes after the CRL")
    tbs_tag, tbs_start, tbs_end = der.read_header(data, outer_start, outer_end)
    if tbs_tag != 0x30:
        raise DerError("TBSCertList is not a SEQUENCE")
    _, alg_end = der.expect(data, tbs_end, outer_end, 0x30)
    sig_alg = data[tbs_end:alg_end]
    bits_start, bits_end = der.expect(data, alg_end, outer_end, 0x03)
    if bits_end != outer_end:
        raise DerError("unexpected element after the signature")
    if bits_start == bits_end or data[bits_start] != 0:
        raise DerError("signature BIT STRING has unused bits")
    signature = data[bits_start + 1 : bits_end]

    pos = tbs_start
    tag, start, stop = der.read_header(data, pos, tbs_end)
    is_v2 = tag == 0x02
    if is_v2:
        if data[start:stop] != b"\x01":
            raise DerError("CRL version is not v2")
        pos = stop
    s, e = der.expect(data, pos, tbs_end, 0x30)
    inner_alg = data[pos:e]
    pos = e
    s, e = der.expect(data, pos, tbs_end, 0x30)
    issuer = data[pos:e]
    pos = e
    this_update, pos = der.read_time(data, pos, tbs_end)
    next_update: int | None = None
    revoked: tuple[int, int] | None = None
    revoked_tlv: tuple[int, int] | None = None
    extensions: bytes | None = None
    if pos < tbs_end and data[pos] in (0x17, 0x18):
        next_update, pos = der.read_time(data, pos, tbs_end)
    if pos < tbs_end and data[pos] == 0x30:
        s, e = der.expect(data, pos, tbs_end, 0x30)
        revoked = (s, e)
        revoked_tlv = (pos, e)
        pos = e
    if pos < tbs_end:
        s, e = der.expect(data, pos, tbs_end, 0xA0)
        _, ee = der.expect(data, s, e, 0x30)
        if ee != e:
            raise DerError("trailing bytes in crlExtensions")
        extensions = data[s:e]
        pos = e
    if pos != tbs_end:
        raise DerError("unexpected element in TBSCertList")
    if extensions is not None and not is_v2:
        raise DerError("a v1 CRL cannot carry extensions")
    return RawCrl(
        data,
        (outer_start, tbs_end),
        (tbs_start, tbs_end),
        sig_alg,
        inner_alg,
        signature,
        issuer,
        this_update,
        next_update,
        revoked,
        revoked_tlv,
        extensions,
    )


class UnsupportedEntryError(DerError):
    """An entry carries a critical extension this verifier does not process (e.g.
    certificateIssuer of an indirect CRL): the CRL cannot be relied upon."""


DATE_SHIFT = 8
SERIAL_SHIFT = 40  # packed entry: serial << 40 | date (uint32 epoch seconds) << 8 | reason


def parse_entries(
    data: bytes, start: int, end: int, max_entries: int
) -> tuple[list[int], list[int], list[int]]:
    """Walk revokedCertificates content in data[start:end].

    Returns parallel lists (serial, revocation date in epoch seconds, reason code or
    NO_REASON) in CRL order. Raises DerError as parse_entries_packed does."""
    packed = parse_entries_packed(data, start, end, max_entries)
    return (
        [k >> SERIAL_SHIFT for k in packed],
        [(k >> DATE_SHIFT) & 0xFFFFFFFF for k in packed],
        [k & 0xFF for k in packed],
    )


def parse_entries_packed(data: bytes, start: int, end: int, max_entries: int) -> list[int]:
    """Walk revokedCertificates content in data[start:end] into one int per entry:
    serial << 40 | revocation date (epoch seconds, 1970..2106) << 8 | reason code
    (NO_REASON when absent), in CRL order. Sorting these sorts by serial.

    Raises DerError on any malformed entry, a non-positive serial, a date outside
    1970..2106, or more than `max_entries` entries. The loop is written flat on purpose:
    it runs a million times for a national CRL."""
    keys: list[int] = []
    add = keys.append
    days: dict[int, int] = {}
    from_bytes = int.from_bytes
    starts_with = data.startswith
    # An entry takes at least 18 bytes, so a short list cannot exceed the cap.
    counting = (end - start) // 18 > max_entries
    pos = start
    try:
        while pos < end:
            if counting and len(keys) >= max_entries:
                raise DerError(f"more than {max_entries} entries")
            if data[pos] != 0x30:
                raise DerError(f"entry at {pos} is not a SEQUENCE")
            length = data[pos + 1]
            if length < 0x80:
                cstart = pos + 2
                cend = cstart + length
                if cend > end:
                    raise DerError(f"entry at {pos} runs past the list")
            else:
                _, cstart, cend = der.read_header(data, pos, end)
            if cend - cstart < 16 or data[cstart] != 0x02:
                raise DerError(f"entry at {pos} has no serial and date")
            slen = data[cstart + 1]
            s0 = cstart + 2
            s1 = s0 + slen
            if slen == 0 or slen > 21 or s1 + 2 > cend:
                raise DerError(f"bad serial length in entry at {pos}")
            first = data[s0]
            if first & 0x80 or (first == 0 and (slen == 1 or data[s0 + 1] < 0x80)):
                raise DerError(f"serial not a positive minimal INTEGER in entry at {pos}")
            t0 = s1 + 2
            t1 = t0 + data[s1 + 1]
            if t1 > cend:
                raise DerError(f"revocation date runs past entry at {pos}")
            digits = data[t0 : t0 + 12]
            if t1 - t0 == 13 and data[s1] == 0x17 and data[t0 + 12] == 0x5A and digits.isdigit():
                # YYMMDDHHMMSS as one number: days from a small cache, the clock by
                # arithmetic (HHMMSS - 40*HHMM - 2400*HH = seconds of the day).
                stamp = int(digits)
                day = days.get(stamp // 1000000)
                if day is None:
                    day = days[stamp // 1000000] = _utc_day(digits[:6])
                clock = stamp % 1000000
                if clock > 235959 or clock % 10000 > 5959 or clock % 100 > 59:
                    raise DerError(f"impossible time of day in entry at {pos}")
                date = day + clock - 40 * (clock // 100) - 2400 * (clock // 10000)
            else:
                date = der.decode_time(data[s1], bytes(data[t0:t1]))
                if not 0 <= date < 1 << 32:
                    raise DerError(f"revocation date outside 1970..2106 in entry at {pos}")
            if t1 == cend:
                reason = NO_REASON
            elif cend - t1 == 14 and starts_with(_ONLY_REASON, t1):
                reason = data[t1 + 13]
                if reason > 10 or reason == 7:
                    raise DerError(f"bad reasonCode {reason} in entry at {pos}")
            else:
                reason = _entry_extensions(data, t1, cend)
            add((from_bytes(data[s0:s1]) << SERIAL_SHIFT) | (date << DATE_SHIFT) | reason)
            pos = cend
    except IndexError as exc:  # a lying length pointed past the buffer
        raise DerError("entry runs past the end of the CRL") from exc
    return keys


def _utc_day(digits: bytes) -> int:
    """YYMMDD of a UTCTime to the epoch second of that day's midnight (1970..2049)."""
    day = der.decode_time(0x17, digits + b"000000Z")
    if day < 0:
        raise DerError("revocation date before 1970")
    return day


def _entry_extensions(data: bytes, pos: int, end: int) -> int:
    """The reason code among an entry's extensions (general path)."""
    s, e = der.expect(data, pos, end, 0x30)
    if e != end:
        raise DerError(f"trailing bytes in entry extensions at {pos}")
    reason = NO_REASON
    p = s
    while p < e:
        xs, xe = der.expect(data, p, e, 0x30)
        os_, oe = der.expect(data, xs, xe, 0x06)
        oid = data[os_:oe]
        q = oe
        critical = False
        tag, bs, be = der.read_header(data, q, xe)
        if tag == 0x01:
            if be - bs != 1 or data[bs] not in (0x00, 0xFF):
                raise DerError("bad BOOLEAN")
            critical = data[bs] == 0xFF
            q = be
        vs, ve = der.expect(data, q, xe, 0x04)
        if ve != xe:
            raise DerError("trailing bytes in an entry extension")
        if oid == _OID_REASON:
            rs, re_ = der.expect(data, vs, ve, 0x0A)
            if re_ != ve or re_ - rs != 1 or data[rs] > 10 or data[rs] == 7:
                raise DerError("bad reasonCode")
            reason = data[rs]
        elif oid == _OID_INVALIDITY:
            pass  # informational only
        elif critical:
            raise UnsupportedEntryError(f"critical entry extension {oid.hex()} not supported")
        p = xe
    return reason


# --- the columnar walker: the common entry shape decoded by numpy, in bulk -------------
#
# A national CRL is a million entries of one or two shapes:
#   30 LL 02 SL <serial> 17 0D YYMMDDHHMMSS 5A [30 0C 30 0A 06 03 55 1D 15 04 03 0A 01 RR]
# Python only hops from entry to entry by the DER lengths (entry_starts); every byte of
# an entry is then checked with array operations over all entries at once. An entry
# that is not exactly this shape (a long serial, GeneralizedTime, other extensions, or
# anything malformed) goes to the general walker above, which decodes it or raises: the
# fast path never rejects and never guesses, it only declines.

_ENTRY_SEQ_INT = 0x3000_0200  # 30 ?? 02 ?? (tag bytes of the entry and its serial)
_UTC_HEAD = 0x170D  # UTCTime, 13 bytes
_REASON_HEAD = 0x300C_300A_0603_551D  # the first 8 bytes of _ONLY_REASON
_REASON_TAIL = 0x551D_1504_030A_01  # its last 7 bytes (overlapping by 2)
_DIGITS_HIGH = 0x3030_3030_3030_3030  # ASCII digits are 0x30..0x39
_NIBBLES_HIGH = 0xF0F0_F0F0_F0F0_F0F0
_CARRY_SIX = 0x0606_0606_0606_0606  # 0x3A..0x3F + 6 carries into the high nibble
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_REASON_OK = np.array([r <= 10 and r != 7 for r in range(256)])


@dataclass(frozen=True)
class EntryColumns:
    """Decoded entries in CRL order: serials below 2**64 as columns, wider ones packed
    (serial << SERIAL_SHIFT | date << DATE_SHIFT | reason) in `wide`."""

    serials: NDArray[np.uint64]
    dates: NDArray[np.uint32]
    reasons: NDArray[np.uint8]
    wide: list[int]

    def __len__(self) -> int:
        return len(self.serials) + len(self.wide)


def entry_starts(data: bytes, start: int, end: int, max_entries: int) -> list[int]:
    """Offsets of the revokedCertificates entries in data[start:end], found by their DER
    lengths alone (what each entry holds is checked later). Raises DerError when the
    lengths do not tile the span exactly or there are more than `max_entries`."""
    starts: list[int] = []
    add = starts.append
    pos = start
    try:
        for _ in range(max_entries):
            if pos >= end:
                break
            add(pos)
            length = data[pos + 1]
            if length < 0x80:
                pos += 2 + length
            else:  # an entry of 128 bytes or more: rare, so the strict reader
                pos = der.read_header(data, pos, end)[2]
    except IndexError as exc:  # the last length byte lay beyond the buffer
        raise DerError("entry runs past the end of the CRL") from exc
    if pos < end:
        raise DerError(f"more than {max_entries} entries")
    if pos > end:
        raise DerError(f"entry at {starts[-1]} runs past the list")
    return starts


def _windows(data: bytes) -> NDArray[np.uint64]:
    """Every 8-byte big-endian window of `data`, without a copy: window i is
    data[i:i+8]. The ndarray constructor checks the view stays inside the buffer."""
    count = max(0, len(data) - 7)
    return np.ndarray((count,), dtype=">u8", buffer=data, strides=(1,))


def _epoch_seconds(ymdhms: tuple[NDArray[np.int64], ...]) -> NDArray[np.int64]:
    """Days-from-civil (proleptic Gregorian, H. Hinnant's formulation) plus the clock."""
    year, month, day, hour, minute, second = ymdhms
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    seconds: NDArray[np.int64] = days * 86400 + hour * 3600 + minute * 60 + second
    return seconds


def _digits_ok(word: NDArray[np.uint64], mask: int) -> NDArray[np.bool_]:
    """True where every byte of `word` selected by `mask` is an ASCII digit."""
    high = np.uint64(_NIBBLES_HIGH & mask)
    digits = np.uint64(_DIGITS_HIGH & mask)
    carried = (word & np.uint64(mask)) + np.uint64(_CARRY_SIX & mask)
    ok: NDArray[np.bool_] = ((word & high) == digits) & ((carried & high) == digits)
    return ok


def _digit_pair(word: NDArray[np.uint64], byte: int) -> NDArray[np.int64]:
    """The two-digit number in bytes `byte`, `byte`+1 of `word` (0 = most significant)."""
    tens = (word >> np.uint64(8 * (7 - byte))) & np.uint64(0xF)
    ones = (word >> np.uint64(8 * (6 - byte))) & np.uint64(0xF)
    return (tens * np.uint64(10) + ones).astype(np.int64)


_CHUNK = 1 << 15  # entries decoded per numpy pass: temporaries stay small and in cache


def parse_entries_columns(data: bytes, start: int, end: int, max_entries: int) -> EntryColumns:
    """Walk revokedCertificates content in data[start:end] into columns. Accepts the
    same lists as parse_entries_packed, with the same entries, and raises DerError on
    the same ones (the message may name another bad entry); tests compare the two."""
    starts = np.array(entry_starts(data, start, end, max_entries), dtype=np.int64)
    n = len(starts)
    ends = np.empty(n, dtype=np.int64)
    ends[:-1] = starts[1:]
    ends[-1:] = end
    fits = np.zeros(n, dtype=np.bool_)  # stays False where no window can be read
    fits_wide = np.zeros(n, dtype=np.bool_)
    serials = np.empty(n, dtype=np.uint64)
    dates = np.empty(n, dtype=np.uint32)
    reasons = np.empty(n, dtype=np.uint8)
    win = _windows(data)
    for lo in range(0, n if len(win) else 0, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        fits[part], fits_wide[part], serials[part], dates[part], reasons[part] = _decode_common(
            win, starts[part], ends[part]
        )
    odd = np.flatnonzero(~(fits | fits_wide))
    if len(odd) == 0 and not fits_wide.any():
        return EntryColumns(serials, dates, reasons, [])
    # Serials of 2**64 and more: the shape is checked, only the big int is made here.
    from_bytes = int.from_bytes
    wide = [
        from_bytes(data[p + 4 : p + 4 + data[p + 3]]) << SERIAL_SHIFT | d << DATE_SHIFT | r
        for p, d, r in zip(
            starts[fits_wide].tolist(),
            dates[fits_wide].tolist(),
            reasons[fits_wide].tolist(),
            strict=True,
        )
    ]
    narrow: list[int] = []
    for i in odd.tolist():
        (key,) = parse_entries_packed(data, int(starts[i]), int(ends[i]), 1)
        (wide if key >> SERIAL_SHIFT >= 1 << 64 else narrow).append(key)
    return EntryColumns(
        np.concatenate([serials[fits], np.array([k >> SERIAL_SHIFT for k in narrow], np.uint64)]),
        np.concatenate(
            [dates[fits], np.array([(k >> DATE_SHIFT) & 0xFFFFFFFF for k in narrow], np.uint32)]
        ),
        np.concatenate([reasons[fits], np.array([k & 0xFF for k in narrow], np.uint8)]),
        wide,
    )


def _decode_common(
    win: NDArray[np.uint64], starts: NDArray[np.int64], ends: NDArray[np.int64]
) -> tuple[
    NDArray[np.bool_], NDArray[np.bool_], NDArray[np.uint64], NDArray[np.int64], NDArray[np.uint8]
]:
    """(fits, fits_wide, serial, date, reason) of entries given by their spans. `fits`:
    the common shape with a serial below 2**64; `fits_wide`: the same shape with a wider
    serial (up to 21 bytes), whose value is left to the caller. The other values mean
    something only where one of the two is true."""
    last = len(win) - 1

    def at(offsets: NDArray[np.int64]) -> NDArray[np.uint64]:
        # Clipped so that a short or lying entry cannot index outside the buffer; such
        # an entry fails `fits`, so what was read for it is never used.
        return win[np.clip(offsets, 0, last)].astype(np.uint64)

    head = at(starts)  # 30 LL 02 SL s0 s1 s2 s3
    size = ((head >> np.uint64(48)) & np.uint64(0xFF)).astype(np.int64)  # LL
    slen = ((head >> np.uint64(32)) & np.uint64(0xFF)).astype(np.int64)  # SL
    lead = ((head >> np.uint64(24)) & np.uint64(0xFF)).astype(np.int64)
    after_lead = ((head >> np.uint64(16)) & np.uint64(0xFF)).astype(np.int64)
    time_at = starts + 4 + slen
    rest = ends - (time_at + 15)  # bytes after the date: 0, or 14 for a reasonCode
    fits = (
        ((head & np.uint64(0xFF00_FF00_0000_0000)) == np.uint64(_ENTRY_SEQ_INT << 32))
        & (size < 0x80)
        & (starts + 2 + size == ends)  # entry_starts made it so; checked so this stands alone
        & (slen >= 1)
        & (slen <= 21)
        & ((rest == 0) | (rest == 14))
        # a positive minimal INTEGER
        & (lead < 0x80)
        & ((lead != 0) | ((slen > 1) & (after_lead >= 0x80)))
    )
    serial_mask = np.where(
        slen >= 8,
        np.uint64(0xFFFF_FFFF_FFFF_FFFF),
        (np.uint64(1) << (np.minimum(slen, 7) * 8).astype(np.uint64)) - np.uint64(1),
    )
    serials = at(starts + slen - 4) & serial_mask
    date_head = at(time_at)  # 17 0D Y Y M M D D
    date_tail = at(time_at + 7)  # D H H M M S S Z
    fits &= ((date_head >> np.uint64(48)) == np.uint64(_UTC_HEAD)) & (
        (date_tail & np.uint64(0xFF)) == np.uint64(0x5A)
    )
    fits &= _digits_ok(date_head, 0xFFFF_FFFF_FFFF) & _digits_ok(date_tail, 0xFFFF_FFFF_FFFF_FF00)
    yy = _digit_pair(date_head, 2)
    parts = (
        yy + np.where(yy < 50, 2000, 1900),  # RFC 5280 4.1.2.5.1
        _digit_pair(date_head, 4),
        _digit_pair(date_head, 6),
        _digit_pair(date_tail, 1),
        _digit_pair(date_tail, 3),
        _digit_pair(date_tail, 5),
    )
    year, month, day, hour, minute, sec = parts
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    fits &= (
        (year >= 1970)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= month_days)
        & (hour <= 23)
        & (minute <= 59)
        & (sec <= 59)
    )
    has_reason = rest == 14
    reason_tail = at(time_at + 21)
    reasons = np.where(has_reason, reason_tail & np.uint64(0xFF), NO_REASON).astype(np.uint8)
    fits &= ~has_reason | (
        (at(time_at + 15) == np.uint64(_REASON_HEAD))
        & ((reason_tail >> np.uint64(8)) == np.uint64(_REASON_TAIL))
        & _REASON_OK[reasons]
    )
    # Below 2**64: up to 8 bytes, or 9 with a leading zero. The serial's window must
    # start inside the buffer (only the very first entry of a buffer could fail that).
    narrow = ((slen <= 8) | ((slen == 9) & (lead == 0))) & (starts + slen - 4 >= 0)
    return fits & narrow, fits & (slen >= 9) & ~narrow, serials, _epoch_seconds(parts), reasons
