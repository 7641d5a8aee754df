"""What the card's files hold, byte for byte (jpki-card.md): certificates followed by
0xFF filler, the 32-byte token info, and the card-info input-helper records."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import encode_tlv
from jpki.constants import (
    TOKEN_INFO_LENGTH,
    TOKEN_INFO_MYNUMBER_CARD,
    Aid,
    CardInfoFile,
    JpkiFile,
    KeyKind,
    PinKind,
)
from simulators.card.filesystem import Applet, BinaryFile, FileSystem, KeyFile, PinFile
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona

FILLER = 0xFF
CERT_EF_MIN_SIZE = 2048
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

# Length of the DF21 TLV: tag (2) + length (1) + four big-endian u16 offsets.
OFFSETS_TLV_LENGTH = 3 + 8


def padded_size(content_length: int, minimum: int = 0) -> int:
    """EF size for content: the next multiple of 256 that leaves at least one filler
    byte, so every record-bearing EF really has filler after its data object."""
    granules = content_length // EF_GRANULE + 1
    return max(minimum, granules * EF_GRANULE)


def with_filler(content: bytes, size: int) -> bytes:
    if len(content) > size:
        raise ValueError(f"{len(content)} bytes do not fit an EF of {size}")
    return content + bytes([FILLER]) * (size - len(content))


def certificate_ef(der: bytes) -> bytes:
    return with_filler(der, padded_size(len(der), CERT_EF_MIN_SIZE))


def token_info() -> bytes:
    """EF 0006: exactly 32 bytes, the label padded with spaces."""
    return TOKEN_INFO_MYNUMBER_CARD.encode("ascii").ljust(TOKEN_INFO_LENGTH, b" ")


def my_number_record(persona: Persona) -> bytes:
    """EF 0001 of the card-info applet: FF10 0C <12 digits> FF FF (17 bytes)."""
    return encode_tlv(TAG_MY_NUMBER, persona.my_number.reveal().encode("ascii")) + b"\xff\xff"


def basic_four_record(persona: Persona) -> bytes:
    """EF 0002 content without filler: FF20 { DF21 offsets, DF22 name, DF23 address,
    DF24 birth date, DF25 sex }.

    DF21 holds four big-endian u16: the offset of the first tag byte of DF22, DF23,
    DF24 and DF25, counted from the start of the FF20 value (so DF22 is always at 11,
    right after the DF21 TLV itself)."""
    elements = [
        encode_tlv(TAG_NAME, persona.name.encode("utf-8")),
        encode_tlv(TAG_ADDRESS, persona.address.encode("utf-8")),
        encode_tlv(TAG_BIRTH_DATE, persona.birth_date.strftime("%Y%m%d").encode("ascii")),
        encode_tlv(TAG_SEX, persona.sex.encode("ascii")),
    ]
    offsets = bytearray()
    position = OFFSETS_TLV_LENGTH
    for element in elements:
        offsets += position.to_bytes(2, "big")
        position += len(element)
    value = encode_tlv(TAG_OFFSETS, bytes(offsets)) + b"".join(elements)
    return encode_tlv(TAG_BASIC_FOUR, value)


def basic_four_digest_input(record: bytes) -> bytes:
    """The part of the basic-4 record DF32 hashes: the FF20 value from DF22 on."""
    header = 2 + (1 if record[2] < 0x80 else 1 + (record[2] & 0x7F))
    return record[header + OFFSETS_TLV_LENGTH :]


# Signs the integrity record's to-be-signed bytes (RSA PKCS#1 v1.5 with SHA-256).
IntegritySigner = Callable[[bytes], bytes]


def integrity_record(my_number: bytes, basic_four: bytes, sign: IntegritySigner) -> bytes:
    """EF 0003 content without filler: FF30 { DF31 sha256(EF0001's 17 bytes),
    DF32 sha256(basic-4 value from DF22 on), DF33 signature }.

    DF33 is an RSA PKCS#1 v1.5 SHA-256 signature over the DF31 TLV followed by the DF32
    TLV, exactly as encoded in the record."""
    signed = encode_tlv(TAG_MY_NUMBER_DIGEST, hashlib.sha256(my_number).digest()) + encode_tlv(
        TAG_BASIC_FOUR_DIGEST, hashlib.sha256(basic_four_digest_input(basic_four)).digest()
    )
    return encode_tlv(TAG_INTEGRITY, signed + encode_tlv(TAG_INTEGRITY_SIGNATURE, sign(signed)))


@dataclass(frozen=True)
class IntegrityKey:
    """The "card manufacturer" key that signs card-info integrity records.

    One per process, generated on first use, like one issuer signing many cards. Its
    private half is never stored with a card (the record is written once, at issuance);
    each card keeps only the public key (SubjectPublicKeyInfo DER) so verifiers in
    tests can check DF33 with `SoftwareCard.integrity_public_key`."""

    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return "IntegrityKey(<private key not shown>)"

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


_integrity_lock = threading.Lock()
_integrity_key: IntegrityKey | None = None


def integrity_key() -> IntegrityKey:
    global _integrity_key
    with _integrity_lock:
        if _integrity_key is None:
            _integrity_key = IntegrityKey(rsa.generate_private_key(65537, 2048))
        return _integrity_key


def jpki_applet(certs: IssuedCertificates) -> Applet:
    """The JPKI applet. A card without a signature certificate (holder under 15) has
    the sign CA certificate but no sign certificate, sign key or sign PIN EF: SELECT of
    those answers 6A82 and VERIFY of the sign PIN 6A88, as for any absent file."""
    applet = Applet(Aid.JPKI.value, "JPKI")
    if certs.sign_cert is not None:
        applet.add(BinaryFile(JpkiFile.SIGN_CERT, certificate_ef(certs.sign_cert), PinKind.SIGN))
    applet.add(BinaryFile(JpkiFile.SIGN_CA_CERT, certificate_ef(certs.sign_ca_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CERT, certificate_ef(certs.auth_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CA_CERT, certificate_ef(certs.auth_ca_cert)))
    applet.add(BinaryFile(JpkiFile.TOKEN_INFO, token_info()))
    applet.add(KeyFile(JpkiFile.AUTH_KEY, KeyKind.AUTH, PinKind.AUTH))
    applet.add(PinFile(JpkiFile.AUTH_PIN, PinKind.AUTH))
    if certs.sign_cert is not None:
        applet.add(KeyFile(JpkiFile.SIGN_KEY, KeyKind.SIGN, PinKind.SIGN))
        applet.add(PinFile(JpkiFile.SIGN_PIN, PinKind.SIGN))
    return applet


def card_info_applet(persona: Persona, sign: IntegritySigner) -> Applet:
    my_number = my_number_record(persona)
    basic_four = basic_four_record(persona)
    integrity = integrity_record(my_number, basic_four, sign)
    applet = Applet(Aid.CARD_INFO.value, "card-info input helper")
    # EF 0001 is exactly the 17-byte record: its two trailing FF are its filler.
    applet.add(BinaryFile(CardInfoFile.MY_NUMBER, my_number, PinKind.CARD_INFO))
    applet.add(
        BinaryFile(
            CardInfoFile.BASIC_FOUR,
            with_filler(basic_four, padded_size(len(basic_four))),
            PinKind.CARD_INFO,
        )
    )
    applet.add(
        BinaryFile(
            CardInfoFile.INTEGRITY,
            with_filler(integrity, padded_size(len(integrity))),
            PinKind.CARD_INFO,
        )
    )
    applet.add(PinFile(CardInfoFile.PIN, PinKind.CARD_INFO))
    return applet


def build_filesystem(
    persona: Persona, certs: IssuedCertificates, sign: IntegritySigner
) -> FileSystem:
    """All four applets; card surface and resident registry answer SELECT but hold no
    files this card implements."""
    fs = FileSystem()
    fs.add(jpki_applet(certs))
    fs.add(card_info_applet(persona, sign))
    fs.add(Applet(Aid.CARD_SURFACE.value, "card surface"))
    fs.add(Applet(Aid.RESIDENT_REGISTRY.value, "resident registry"))
    return fs
