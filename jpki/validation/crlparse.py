"""Splitting a DER CRL into what verification and indexing need, without re-encoding.

The outer structure and the revokedCertificates entries are walked with the small DER
reader (der.py); the header's issuer and extensions are handed to asn1crypto. The
signature is later verified over `tbs`, the exact bytes that were signed."""

from __future__ import annotations

from dataclasses import dataclass

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
