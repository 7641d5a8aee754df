"""The columnar walker: revokedCertificates entries of the common shape checked and
decoded by numpy, in bulk. What CrlStore uses to index a CRL.

A national CRL is a million entries of one or two shapes:
  30 LL 02 SL <serial> 17 0D YYMMDDHHMMSS 5A [30 0C 30 0A 06 03 55 1D 15 04 03 0A 01 RR]
Python only hops from entry to entry by the DER lengths (entry_starts); every byte of an
entry is then checked with array operations over all entries at once. An entry that is
not exactly this shape (a long serial, GeneralizedTime, other extensions, or anything
malformed) goes to crlparse's general walker, which decodes it or raises: the fast path
never rejects and never guesses, it only declines.

Kept apart from crlparse so that importing jpki.validation does not import numpy
(~0.1 s); only loading a CRL does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jpki.validation import der
from jpki.validation.crlparse import DATE_SHIFT, NO_REASON, SERIAL_SHIFT, parse_entries_packed
from jpki.validation.der import DerError

_ENTRY_SEQ_INT = 0x3000_0200  # 30 ?? 02 ?? (tag bytes of the entry and its serial)
_UTC_HEAD = 0x170D  # UTCTime, 13 bytes
_REASON_HEAD = 0x300C_300A_0603_551D  # the first 8 bytes of crlparse._ONLY_REASON
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
