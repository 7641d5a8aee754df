"""The card-info input-helper applet (券面入力補助 AP) as real cards hold it
(real-card-notes.md §2): the My Number, the basic 4 facts, the integrity record signed
by the key EF 0004 certifies, the CV certificate, the key-info and key EFs, and the
keys that open them (PIN 0011, 0012 blocked as issued, 照合番号A 0014, 照合番号B 0015).

Access, as measured: 0001 by the PIN or 照合番号A; 0002 by the PIN or 照合番号B; 0003,
0006 and 0007 by the PIN or either code; 0004, 0005 and 0008 free."""

from __future__ import annotations

import hashlib

from card.tlv import encode_length, encode_tlv
from jpki.constants import Aid, CardInfoFile, PinKind
from jpki.cvc import key_id
from simulators.card.filesystem import Applet, BinaryFile, CardKey, KeyFile, PinFile, ReadAccess
from simulators.card.issuer import ApIssuer, rsa_key_object
from simulators.personas import Persona

FILLER = 0xFF
EF_GRANULE = 256

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FOUR = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25
TAG_INTEGRITY = 0xFF30
TAG_MY_NUMBER_DIGEST = 0xDF31
TAG_BASIC_FOUR_DIGEST = 0xDF32
TAG_INTEGRITY_SIGNATURE = 0xDF33
TAG_KEY_INFO = 0xFF40
TAG_KEY_INFO_VERSION = 0xDF41
TAG_KEY_INFO_ID = 0xDF42
TAG_KEY_INFO_OPAQUE = 0xDF43
TAG_SESSION_KEY = 0xA1
TAG_AP_KEY_RECORD = 0xFF50
TAG_AP_KEY = 0xDF51
TAG_AP_KEY_SIGNATURE = 0xDF52

# DF41 of EF 0005: specification version, extended Lc/Le support, vendor, vendor-specific.
KEY_INFO_VERSION = bytes.fromhex("01030E01")
KEY_INFO_KEY_ID = "6000034/001"
UNKNOWN_0008 = b"\xff" * 16


def offsets_tlv(field_lengths: list[int], first_tag_at: int) -> bytes:
    """DF21: one big-endian u16 per field, the offset of its TAG byte counted from byte
    0 of the EF (the FF of FF20), real-card-notes.md §2."""
    offsets = bytearray()
    position = first_tag_at
    for length in field_lengths:
        offsets += position.to_bytes(2, "big")
        position += length
    return encode_tlv(TAG_OFFSETS, bytes(offsets))


def offset_record(outer_tag: int, fields: list[bytes]) -> bytes:
    """outer_tag { DF21 offsets, fields... } with the offsets counted from byte 0 of the
    record. The DF21 object's own size does not depend on the offsets' values, so the
    header is sized first and the offsets computed from it."""
    offsets_size = 3 + 2 * len(fields)  # DF21, one length byte (at most 9 fields), values
    value_length = offsets_size + sum(len(field) for field in fields)
    header = outer_tag.to_bytes(2, "big") + encode_length(value_length)
    table = offsets_tlv([len(field) for field in fields], len(header) + offsets_size)
    assert len(table) == offsets_size
    return header + table + b"".join(fields)


def padded_size(content_length: int, minimum: int = 0) -> int:
    """EF size for content: the next multiple of 256 that leaves at least one filler
    byte, so every record-bearing EF really has filler after its data object."""
    granules = content_length // EF_GRANULE + 1
    return max(minimum, granules * EF_GRANULE)


def with_filler(content: bytes, size: int) -> bytes:
    if len(content) > size:
        raise ValueError(f"{len(content)} bytes do not fit an EF of {size}")
    return content + bytes([FILLER]) * (size - len(content))


def my_number_record(persona: Persona) -> bytes:
    """EF 0001: FF10 0C <12 digits> FF FF (17 physical bytes, 15 of TLV)."""
    return encode_tlv(TAG_MY_NUMBER, persona.my_number.reveal().encode("ascii")) + b"\xff\xff"


def basic_four_record(persona: Persona) -> bytes:
    """EF 0002 content without filler: FF20 { DF21 offsets, DF22 name, DF23 address,
    DF24 birth date, DF25 sex }; DF22 sits at 0x0E when the record is under 128 bytes."""
    return offset_record(
        TAG_BASIC_FOUR,
        [
            encode_tlv(TAG_NAME, persona.name.encode("utf-8")),
            encode_tlv(TAG_ADDRESS, persona.address.encode("utf-8")),
            encode_tlv(TAG_BIRTH_DATE, persona.birth_date.strftime("%Y%m%d").encode("ascii")),
            encode_tlv(TAG_SEX, persona.sex.encode("ascii")),
        ],
    )


def basic_four_digest_input(record: bytes) -> bytes:
    """What DF32 hashes: the FF20 value from the DF22 tag to the end, without DF21 and
    without filler."""
    header = 2 + (1 if record[2] < 0x80 else 1 + (record[2] & 0x7F))
    offsets_size = 3 + record[header + 2]
    return record[header + offsets_size :]


def integrity_record(my_number: bytes, basic_four: bytes, signer: ApIssuer) -> bytes:
    """EF 0003: FF30 { DF31 sha256(EF 0001's 17 bytes), DF32 sha256(basic-4 value from
    DF22 on), DF33 PKCS#1 v1.5 SHA-256 over DF31||DF32 as written }, 336 bytes."""
    signed = encode_tlv(TAG_MY_NUMBER_DIGEST, hashlib.sha256(my_number).digest()) + encode_tlv(
        TAG_BASIC_FOUR_DIGEST, hashlib.sha256(basic_four_digest_input(basic_four)).digest()
    )
    return encode_tlv(
        TAG_INTEGRITY, signed + encode_tlv(TAG_INTEGRITY_SIGNATURE, signer.sign(signed))
    )


def key_info_record(persona: Persona) -> bytes:
    """EF 0005: FF40 { DF41 version bytes, DF42 key id, DF43 32 opaque bytes + 96 FF }.
    The 32 bytes' meaning is unknown; here they are fixed per persona."""
    opaque = hashlib.sha256(f"text-0005:{persona.id}".encode()).digest() + b"\xff" * 96
    return encode_tlv(
        TAG_KEY_INFO,
        encode_tlv(TAG_KEY_INFO_VERSION, KEY_INFO_VERSION)
        + encode_tlv(TAG_KEY_INFO_ID, key_id(KEY_INFO_KEY_ID))
        + encode_tlv(TAG_KEY_INFO_OPAQUE, opaque),
    )


def ap_key_record(ap_key_object: bytes, signer: ApIssuer) -> bytes:
    """EF 0007: FF50 { DF51 the AP key's public half (90/91), DF52 issuer signature over
    the DF51 object as written }, 536 bytes."""
    public = encode_tlv(TAG_AP_KEY, ap_key_object)
    return encode_tlv(
        TAG_AP_KEY_RECORD, public + encode_tlv(TAG_AP_KEY_SIGNATURE, signer.sign(public))
    )


def card_info_applet(
    persona: Persona, signer: ApIssuer, ap_key_object: bytes, session_key_object: bytes
) -> Applet:
    """`ap_key_object` / `session_key_object`: the public halves (90/91 encoding) of the
    card's CardKey.CARD_INFO_AP and CardKey.CARD_INFO_SESSION keys."""
    my_number = my_number_record(persona)
    basic_four = basic_four_record(persona)
    integrity = integrity_record(my_number, basic_four, signer)
    pin, code_a, code_b = PinKind.CARD_INFO, PinKind.CARD_INFO_CODE_A, PinKind.CARD_INFO_CODE_B
    applet = Applet(Aid.CARD_INFO.value, "card-info input helper", default_key=CardInfoFile.AP_KEY)
    # EF 0001 is exactly the 17-byte record: its two trailing FF are its filler.
    applet.add(BinaryFile(CardInfoFile.MY_NUMBER, my_number, ReadAccess.after(pin, code_a)))
    applet.add(
        BinaryFile(
            CardInfoFile.BASIC_FOUR,
            with_filler(basic_four, padded_size(len(basic_four))),
            ReadAccess.after(pin, code_b),
        )
    )
    applet.add(
        BinaryFile(
            CardInfoFile.INTEGRITY,
            with_filler(integrity, padded_size(len(integrity))),
            ReadAccess.after(pin, code_a, code_b),
        )
    )
    applet.add(BinaryFile(CardInfoFile.CV_CERTIFICATE, signer.certificate))
    applet.add(BinaryFile(CardInfoFile.KEY_INFO, key_info_record(persona)))
    applet.add(
        BinaryFile(
            CardInfoFile.SESSION_KEY_PUBLIC,
            encode_tlv(TAG_SESSION_KEY, session_key_object),
            ReadAccess.after(pin, code_a, code_b),
        )
    )
    applet.add(
        BinaryFile(
            CardInfoFile.AP_KEY_CERTIFICATE,
            ap_key_record(ap_key_object, signer),
            ReadAccess.after(pin, code_a, code_b),
        )
    )
    applet.add(BinaryFile(CardInfoFile.UNKNOWN_0008, UNKNOWN_0008))
    applet.add(PinFile(CardInfoFile.PIN, pin))
    applet.add(PinFile(CardInfoFile.RESERVED_KEY, PinKind.CARD_INFO_RESERVED))
    applet.add(PinFile(CardInfoFile.CODE_A, code_a))
    applet.add(PinFile(CardInfoFile.CODE_B, code_b))
    applet.add(KeyFile(CardInfoFile.AP_KEY, CardKey.CARD_INFO_AP, None))
    return applet


__all__ = ["card_info_applet", "rsa_key_object"]
