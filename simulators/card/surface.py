"""The card-surface applet (券面事項確認 AP) as real cards hold it (real-card-notes.md §3),
with synthetic per-persona contents: the age record, the card face (birth date, sex,
card key, name and address images, face photo, the three-hash signature, expiry and
security-code image), the key info, the CV certificate, the My Number image.

Keys: 0011 the birth date (Japanese era YYMMDD), 0012 照合番号B, 0013 照合番号A.
Access, as measured: the birth date opens 0001 only; 照合番号A opens 0002-0006; 照合番号B
the same without 0005. 0003 and 0004 are free. Every signature is by the key the EF 0004
CV certificate certifies (simulators.card.issuer)."""

from __future__ import annotations

import hashlib

from card.tlv import encode_tlv
from jpki.constants import Aid, PinKind, SurfaceFile
from jpki.cvc import key_id
from jpki.surface_layout import (
    TAG_ADDRESS_IMAGE,
    TAG_AGE_BIRTH_DATE,
    TAG_AGE_CARD_KEY,
    TAG_AGE_RECORD,
    TAG_AGE_SIGNATURE,
    TAG_BIRTH_DATE,
    TAG_CARD_KEY,
    TAG_EXPIRY,
    TAG_FACE,
    TAG_KEY_INFO,
    TAG_MY_NUMBER_CARD_KEY,
    TAG_MY_NUMBER_IMAGE,
    TAG_MY_NUMBER_RECORD,
    TAG_MY_NUMBER_SIGNATURE,
    TAG_NAME_IMAGE,
    TAG_PHOTO,
    TAG_SECURITY_CODE_IMAGE,
    TAG_SEX,
    TAG_SIGNATURE,
    face_digest_info,
)
from simulators.card import imaging
from simulators.card.filesystem import Applet, BinaryFile, CardKey, KeyFile, PinFile, ReadAccess
from simulators.card.issuer import ApIssuer
from simulators.card.textap import offset_record, padded_size, with_filler
from simulators.personas import Persona

# The card key's EF: real cards use it by P2=00 only, so its id is a choice made here.
CARD_KEY_EF = 0x0014
KEY_INFO_VERSION = bytes.fromhex("06030E01")
KEY_INFO_KEY_ID = "6000024/001"
KEY_INFO_OPAQUE_ID = "5900025/001"
UNKNOWN_0006 = b"\xff" * 16


def age_record(persona: Persona, card_key: bytes, signer: ApIssuer) -> bytes:
    """EF 0001: FF10 { DF11 YYYYMMDD, DF12 card key, DF13 signature over DF11||DF12 },
    546 bytes."""
    signed = encode_tlv(
        TAG_AGE_BIRTH_DATE, persona.birth_date.strftime("%Y%m%d").encode()
    ) + encode_tlv(TAG_AGE_CARD_KEY, card_key)
    return encode_tlv(TAG_AGE_RECORD, signed + encode_tlv(TAG_AGE_SIGNATURE, signer.sign(signed)))


def face_record(persona: Persona, card_key: bytes, signer: ApIssuer) -> bytes:
    """EF 0002: FF20 { DF21 nine offsets, DF22..DF2A }; DF29 and DF2A are outside the
    signature."""
    fields = {
        TAG_BIRTH_DATE: encode_tlv(TAG_BIRTH_DATE, persona.birth_date.strftime("%Y%m%d").encode()),
        TAG_SEX: encode_tlv(TAG_SEX, persona.sex.encode()),
        TAG_CARD_KEY: encode_tlv(TAG_CARD_KEY, card_key),
        TAG_NAME_IMAGE: encode_tlv(TAG_NAME_IMAGE, imaging.name_png(persona.name)),
        TAG_ADDRESS_IMAGE: encode_tlv(TAG_ADDRESS_IMAGE, imaging.address_png(persona.address)),
        TAG_PHOTO: encode_tlv(TAG_PHOTO, imaging.face_photo_jp2(persona.id)),
    }
    fields[TAG_SIGNATURE] = encode_tlv(
        TAG_SIGNATURE, signer.sign_digest_info(face_digest_info(fields))
    )
    fields[TAG_EXPIRY] = encode_tlv(TAG_EXPIRY, persona.card_expiry.strftime("%Y%m%d").encode())
    fields[TAG_SECURITY_CODE_IMAGE] = encode_tlv(
        TAG_SECURITY_CODE_IMAGE, imaging.security_code_png(persona.security_code)
    )
    return offset_record(TAG_FACE, [fields[tag] for tag in sorted(fields)])


def key_info_record(persona: Persona) -> bytes:
    """EF 0003: FF30 { DF31 version, DF32 key id, DF33 version 00, DF34 municipality,
    DF35 a 16-byte key id + 256 opaque bytes (fixed per persona here) }."""
    opaque = b"".join(
        hashlib.sha256(f"surface-0003:{persona.id}:{block}".encode()).digest() for block in range(8)
    )
    return encode_tlv(
        TAG_KEY_INFO,
        encode_tlv(0xDF31, KEY_INFO_VERSION)
        + encode_tlv(0xDF32, key_id(KEY_INFO_KEY_ID))
        + encode_tlv(0xDF33, b"\x00")
        + encode_tlv(0xDF34, persona.municipality_code.encode())
        + encode_tlv(0xDF35, key_id(KEY_INFO_OPAQUE_ID) + opaque),
    )


def my_number_image_record(persona: Persona, card_key: bytes, signer: ApIssuer) -> bytes:
    """EF 0005: FF40 { DF41 the My Number as a 72x12 PNG, DF42 card key, DF43 signature
    over DF41||DF42 }."""
    signed = encode_tlv(
        TAG_MY_NUMBER_IMAGE, imaging.my_number_png(persona.my_number.reveal())
    ) + encode_tlv(TAG_MY_NUMBER_CARD_KEY, card_key)
    return encode_tlv(
        TAG_MY_NUMBER_RECORD, signed + encode_tlv(TAG_MY_NUMBER_SIGNATURE, signer.sign(signed))
    )


def surface_applet(persona: Persona, signer: ApIssuer, card_key: bytes) -> Applet:
    """`card_key`: the public half (90/91) of the card's CardKey.SURFACE_CARD key."""
    code_a, code_b = PinKind.SURFACE_CODE_A, PinKind.SURFACE_CODE_B
    applet = Applet(Aid.CARD_SURFACE.value, "card surface", default_key=CARD_KEY_EF)
    applet.add(
        BinaryFile(
            SurfaceFile.AGE_RECORD,
            age_record(persona, card_key, signer),
            ReadAccess.after(PinKind.SURFACE_BIRTH_DATE),
        )
    )
    face = face_record(persona, card_key, signer)
    applet.add(
        BinaryFile(
            SurfaceFile.CARD_FACE,
            with_filler(face, padded_size(len(face))),
            ReadAccess.after(code_a, code_b),
        )
    )
    applet.add(BinaryFile(SurfaceFile.KEY_INFO, key_info_record(persona)))
    applet.add(BinaryFile(SurfaceFile.CV_CERTIFICATE, signer.certificate))
    applet.add(
        BinaryFile(
            SurfaceFile.MY_NUMBER_IMAGE,
            my_number_image_record(persona, card_key, signer),
            ReadAccess.after(code_a),
        )
    )
    applet.add(BinaryFile(SurfaceFile.UNKNOWN_0006, UNKNOWN_0006, ReadAccess.after(code_a, code_b)))
    applet.add(PinFile(SurfaceFile.BIRTH_DATE_KEY, PinKind.SURFACE_BIRTH_DATE))
    applet.add(PinFile(SurfaceFile.CODE_B, code_b))
    applet.add(PinFile(SurfaceFile.CODE_A, code_a))
    applet.add(KeyFile(CARD_KEY_EF, CardKey.SURFACE_CARD, None))
    return applet
