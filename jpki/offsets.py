"""Records that carry their own offset table (DF21): the card-info basic 4 facts and
the card-surface card face (real-card-notes.md §2, §3).

On real cards each DF21 offset counts from byte 0 of the EF (the FF of FF20) to the TAG
byte of its field, so the first one is 0x000E in a short record. Some software cards
counted from the start of the FF20 value instead. `offset_fields` slices each field at
its offset (file-relative first, value-relative second), and checks every slice against
a plain TLV walk of the record, so a client gets the same fields from either card and a
table that points elsewhere is an error, never a silent wrong field."""

from __future__ import annotations

from card.tlv import TlvError, read_tlv
from jpki.errors import CardDataError

TAG_OFFSETS = 0xDF21


def _walk(value: bytes, base: int) -> dict[int, tuple[int, bytes]]:
    """tag -> (position in the EF, the object's bytes) for each child of the record."""
    out: dict[int, tuple[int, bytes]] = {}
    position = 0
    while position < len(value):
        item = read_tlv(value, position)
        out.setdefault(item.tag, (base + position, value[position : position + item.total_length]))
        position += item.total_length
    return out


def _at(raw: bytes, offset: int, tag: int, end: int) -> bytes | None:
    if not 0 <= offset < end:
        return None
    try:
        item = read_tlv(raw[:end], offset)
    except TlvError:
        return None
    if item.tag != tag:
        return None
    return raw[offset : offset + item.total_length]


def offset_fields(raw: bytes, outer_tag: int, tags: tuple[int, ...], what: str) -> dict[int, bytes]:
    """The fields `tags` of the record at the start of `raw` (filler after it is fine),
    each as its TLV object's bytes, found by the DF21 offsets. CardDataError when the
    record is malformed, a field is missing, or an offset points at something else."""
    try:
        record = read_tlv(raw)
    except TlvError as exc:
        raise CardDataError(f"{what}: {exc}") from exc
    if record.tag != outer_tag:
        raise CardDataError(f"{what}: expected tag {outer_tag:X}, found {record.tag:X}")
    end = record.total_length
    try:
        walked = _walk(record.value, record.header_length)
    except TlvError as exc:
        raise CardDataError(f"{what}: {exc}") from exc
    table = walked.get(TAG_OFFSETS)
    if table is None or table[0] != record.header_length:
        raise CardDataError(f"{what}: the offset table (DF21) is not the first element")
    offsets = read_tlv(table[1]).value
    if len(offsets) != 2 * len(tags):
        raise CardDataError(f"{what}: the offset table is not {2 * len(tags)} bytes")
    fields: dict[int, bytes] = {}
    for index, tag in enumerate(tags):
        offset = int.from_bytes(offsets[2 * index : 2 * index + 2], "big")
        found = _at(raw, offset, tag, end)  # real cards: from byte 0 of the EF
        if found is None:
            found = _at(raw, record.header_length + offset, tag, end)  # from the value
        walked_field = walked.get(tag)
        if walked_field is None:
            raise CardDataError(f"{what}: element {tag:X} missing")
        if found is None or found != walked_field[1]:
            raise CardDataError(f"{what}: the offset of {tag:X} points at something else")
        fields[tag] = found
    return fields


def field_value(field: bytes) -> bytes:
    """The value of one field returned by `offset_fields`."""
    return read_tlv(field).value
