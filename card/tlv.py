"""BER-TLV as the card really stores it: multi-byte and non-minimal tags (FF10, FF20,
DF21), long-form lengths, and filler after the object that must be ignored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from card.errors import MalformedResponseError

MAX_LENGTH_OCTETS = 3  # nothing on the card is 16 MiB; longer forms are hostile


class TlvError(MalformedResponseError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes
    header_length: int

    @property
    def total_length(self) -> int:
        return self.header_length + len(self.value)

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes(max(1, (self.tag.bit_length() + 7) // 8), "big")[0]
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        return list(iter_tlvs(self.value))


def read_tag(buf: bytes, offset: int = 0) -> tuple[int, int]:
    """Return (tag, offset after the tag)."""
    if offset >= len(buf):
        raise TlvError("truncated: no tag byte")
    first = buf[offset]
    tag = first
    pos = offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(buf):
                raise TlvError("truncated multi-byte tag")
            byte = buf[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
            if pos - offset > 4:
                raise TlvError("tag longer than 4 bytes")
    return tag, pos


def read_length(buf: bytes, offset: int) -> tuple[int, int]:
    """Return (length, offset after the length field)."""
    if offset >= len(buf):
        raise TlvError("truncated: no length byte")
    first = buf[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed here")
    if count > MAX_LENGTH_OCTETS:
        raise TlvError(f"length field of {count} bytes")
    end = offset + 1 + count
    if end > len(buf):
        raise TlvError("truncated long-form length")
    return int.from_bytes(buf[offset + 1 : end], "big"), end


def read_tlv(buf: bytes, offset: int = 0) -> Tlv:
    """Read one TLV starting at offset; its value must be wholly inside buf."""
    tag, pos = read_tag(buf, offset)
    length, pos = read_length(buf, pos)
    if pos + length > len(buf):
        raise TlvError(f"value of tag {tag:X} claims {length} bytes, {len(buf) - pos} present")
    return Tlv(tag, bytes(buf[pos : pos + length]), pos - offset)


def iter_tlvs(buf: bytes) -> Iterator[Tlv]:
    """Iterate the TLVs that fill buf exactly."""
    pos = 0
    while pos < len(buf):
        item = read_tlv(buf, pos)
        yield item
        pos += item.total_length


def find_child(parent: Tlv, tag: int) -> Tlv:
    for child in iter_tlvs(parent.value):
        if child.tag == tag:
            return child
    raise TlvError(f"tag {tag:X} missing inside {parent.tag:X}")


def encoded_size(prefix: bytes) -> int | None:
    """Total size (header + value) of the TLV whose first bytes are `prefix`, or None if
    more bytes are needed to tell. Used to size a DER certificate from its header."""
    try:
        _, pos = read_tag(prefix, 0)
    except TlvError:
        if len(prefix) < 5:
            return None
        raise
    if pos >= len(prefix):
        return None
    first = prefix[pos]
    if first >= 0x80:
        count = first & 0x7F
        if count == 0 or count > MAX_LENGTH_OCTETS:
            raise TlvError("unusable length form in header")
        if pos + 1 + count > len(prefix):
            return None
    length, end = read_length(prefix, pos)
    return end + length


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    return tag_bytes + encode_length(len(value)) + value
