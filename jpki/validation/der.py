"""A small, bounds-checked DER reader over bytes.

asn1crypto and cryptography parse certificates and CRL headers here; this exists only
for the one place they are too slow: walking a million revokedCertificates entries of a
national CRL. It reads single-byte tags and definite lengths (DER forbids the rest) and
never reads outside [pos, end)."""

from __future__ import annotations

from datetime import UTC, datetime


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


def read_header(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read one TLV header at `pos` within `buf[:end]`.

    Returns (tag, content_start, content_end). Raises DerError on a high tag number,
    an indefinite or non-minimal length, or content running past `end`."""
    if pos + 2 > end:
        raise DerError(f"truncated header at {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DerError(f"high tag number at {pos}")
    first = buf[pos + 1]
    if first < 0x80:
        start = pos + 2
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError(f"unsupported length form at {pos}")
        start = pos + 2 + count
        if start > end:
            raise DerError(f"truncated length at {pos}")
        length = int.from_bytes(buf[pos + 2 : start], "big")
        if length < 0x80 or buf[pos + 2] == 0:
            raise DerError(f"non-minimal length at {pos}")
    stop = start + length
    if stop > end:
        raise DerError(f"content of tag {tag:#x} at {pos} runs past its container")
    return tag, start, stop


def expect(buf: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    """Read a TLV that must have `tag`; returns (content_start, content_end)."""
    got, start, stop = read_header(buf, pos, end)
    if got != tag:
        raise DerError(f"expected tag {tag:#x} at {pos}, found {got:#x}")
    return start, stop


def decode_time(tag: int, raw: bytes) -> int:
    """UTCTime (0x17, YYMMDDHHMMSSZ) or GeneralizedTime (0x18, YYYYMMDDHHMMSSZ) as DER
    requires them, to seconds since the Unix epoch."""
    if raw[-1:] != b"Z" or not raw[:-1].isdigit():  # before int(): it accepts " +_"
        raise DerError("time is not in DER form")
    if tag == 0x17 and len(raw) == 13:
        year = int(raw[0:2])
        year += 2000 if year < 50 else 1900  # RFC 5280 4.1.2.5.1
        rest = raw[2:12]
    elif tag == 0x18 and len(raw) == 15:
        year = int(raw[0:4])
        rest = raw[4:14]
    else:
        raise DerError(f"bad time encoding (tag {tag:#x}, {len(raw)} bytes)")
    try:
        when = datetime(
            year,
            int(rest[0:2]),
            int(rest[2:4]),
            int(rest[4:6]),
            int(rest[6:8]),
            int(rest[8:10]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise DerError(f"impossible time: {exc}") from exc
    return int(when.timestamp())


def read_time(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a Time at `pos`; returns (epoch seconds, position after it)."""
    tag, start, stop = read_header(buf, pos, end)
    return decode_time(tag, bytes(buf[start:stop])), stop


def integer_value(raw: bytes) -> int:
    """The value of an INTEGER's content octets, rejecting empty and non-minimal forms."""
    if not raw:
        raise DerError("empty INTEGER")
    if len(raw) > 1 and ((raw[0] == 0 and raw[1] < 0x80) or (raw[0] == 0xFF and raw[1] >= 0x80)):
        raise DerError("non-minimal INTEGER")
    return int.from_bytes(raw, "big", signed=True)


def encode_tlv(tag: int, content: bytes) -> bytes:
    """DER TLV with a minimal definite length."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def check_signed_shape(data: bytes) -> tuple[int, int, int]:
    """A signed object SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING, ... } in DER:
    the signature BIT STRING must have no unused bits. Libraries ignore the unused-bits
    count, which would let an altered encoding of a valid signature pass.

    Returns (tbs_start, tbs_end, algorithm_end): the signed TBS TLV is
    data[tbs_start:tbs_end] and the outer AlgorithmIdentifier TLV
    data[tbs_end:algorithm_end], so a caller can verify over the bytes as received."""
    start, end = expect(data, 0, len(data), 0x30)
    if end != len(data):
        raise DerError("trailing bytes after the signed object")
    _, _, tbs_end = read_header(data, start, end)
    _, alg_end = expect(data, tbs_end, end, 0x30)
    bits_start, bits_end = expect(data, alg_end, end, 0x03)
    if bits_start == bits_end or data[bits_start] != 0:
        raise DerError("signature BIT STRING has unused bits")
    return start, tbs_end, alg_end


def basic_ocsp_response(data: bytes) -> bytes | None:
    """The BasicOCSPResponse inside an OCSPResponse, or None when it carries none
    (unsuccessful status)."""
    start, end = expect(data, 0, len(data), 0x30)
    if end != len(data):
        raise DerError("trailing bytes after the OCSP response")
    _, status_end = expect(data, start, end, 0x0A)
    if status_end == end:
        return None
    rb_start, rb_end = expect(data, status_end, end, 0xA0)
    seq_start, seq_end = expect(data, rb_start, rb_end, 0x30)
    _, oid_end = expect(data, seq_start, seq_end, 0x06)
    octets_start, octets_end = expect(data, oid_end, seq_end, 0x04)
    return data[octets_start:octets_end]
