"""What the card's files hold, byte for byte (jpki-card.md, real-card-notes.md):
certificates followed by 0xFF filler, the 160-byte token info, the card-info
input-helper records, and the card-level GET DATA objects. Values real cards carry
but the notes do not give (serials, municipality codes, key ids) are synthetic, derived
from the persona so that one persona's card always shows the same ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import encode_tlv
from jpki.constants import (
    CERT_PRESENT,
    TOKEN_INFO_LENGTH,
    TOKEN_INFO_MYNUMBER_CARD,
    TOKEN_LABEL_LENGTH,
    Aid,
    CardInfoFile,
    JpkiFile,
    KeyKind,
    PinKind,
)
from simulators.card.filesystem import (
    Applet,
    BinaryFile,
    FileSystem,
    InternalFile,
    KeyFile,
    PinFile,
    ReadAccess,
)
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


# CK_TOKEN_INFO values of a physical card (real-card-notes.md §1; [obs] for the version
# slots, the rest as the notes' test models them).
TOKEN_MANUFACTURER = "0000000000000001"
TOKEN_MODEL = "E16R01NJ"
TOKEN_FLAGS = 0x040D  # RNG | LOGIN_REQUIRED | USER_PIN_INITIALIZED | TOKEN_INITIALIZED
TOKEN_SESSIONS = (1, 0, 1, 0)  # max sessions, sessions, max RW sessions, RW sessions
TOKEN_PIN_LENGTHS = (16, 6)  # max, min (the sign password's)
TOKEN_MEMORY_UNAVAILABLE = 0xFFFFFFFF
TOKEN_HARDWARE_VERSION = b"03"
TOKEN_FIRMWARE_VERSION = b"01"


def _text_field(text: str, size: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > size:
        raise ValueError(f"{text!r} does not fit {size} bytes")
    return raw.ljust(size, b" ")


def token_info(serial: str) -> bytes:
    """EF 0006: a CK_TOKEN_INFO, every CK_ULONG a 32-bit big-endian word, 160 bytes, no
    TLV and no filler. The utcTime slot is 16 spaces: the flags do not claim a clock."""
    words = (TOKEN_FLAGS, *TOKEN_SESSIONS, *TOKEN_PIN_LENGTHS) + (TOKEN_MEMORY_UNAVAILABLE,) * 4
    record = (
        _text_field(TOKEN_INFO_MYNUMBER_CARD, TOKEN_LABEL_LENGTH)
        + _text_field(TOKEN_MANUFACTURER, 32)
        + _text_field(TOKEN_MODEL, 16)
        + _text_field(serial, 16)
        + struct.pack(">11I", *words)
        + TOKEN_HARDWARE_VERSION
        + TOKEN_FIRMWARE_VERSION
        + b" " * 16
    )
    assert len(record) == TOKEN_INFO_LENGTH
    return record


def certificate_availability(has_sign: bool = True, has_auth: bool = True) -> bytes:
    """EF 0008: byte 0 the sign certificate, byte 1 the auth certificate, `8F` when
    present [obs]; byte 2's meaning is unknown (00 on the measured card)."""
    return bytes((CERT_PRESENT if has_sign else 0x00, CERT_PRESENT if has_auth else 0x00, 0))


# --- the card's identity (synthetic, per persona) ------------------------------------

# 全国地方公共団体コード (5 digits, without the check digit) of the personas' cities.
MUNICIPALITY_CODES = {
    "千代田区": "13101",
    "大阪市": "27100",
    "札幌市": "01100",
    "福岡市": "40130",
    "名古屋市": "23100",
    "那覇市": "47201",
}
UNKNOWN_MUNICIPALITY = "00000"
CARD_VALIDITY_BIRTHDAYS = 10  # an adult's card expires on the 10th birthday after issue


@dataclass(frozen=True)
class CardIdentity:
    """What identifies one card: the 15-digit card serial, the issuing municipality and
    the expiry date. Derived from the persona id and the issue date, so it is stable
    for a persona and consistent wherever the card shows it."""

    serial: str
    municipality: str
    expiry: dt.date

    @property
    def token_serial(self) -> str:
        return self.serial[-16:]


def card_identity(persona: Persona, issued_on: dt.date) -> CardIdentity:
    seed = int.from_bytes(hashlib.sha256(f"card serial {persona.id}".encode()).digest()[:8])
    serial = f"{seed % 10**15:015d}"
    year = issued_on.year + CARD_VALIDITY_BIRTHDAYS
    birthday = persona.birth_date
    try:
        expiry = birthday.replace(year=year)
    except ValueError:  # born on 29 February
        expiry = dt.date(year, 2, 28)
    return CardIdentity(serial, MUNICIPALITY_CODES.get(persona.city, UNKNOWN_MUNICIPALITY), expiry)


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


def jpki_applet(certs: IssuedCertificates, identity: CardIdentity) -> Applet:
    applet = Applet(Aid.JPKI.value, "JPKI")
    applet.add(
        BinaryFile(
            JpkiFile.SIGN_CERT, certificate_ef(certs.sign_cert), ReadAccess.after(PinKind.SIGN)
        )
    )
    applet.add(BinaryFile(JpkiFile.SIGN_CA_CERT, certificate_ef(certs.sign_ca_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CERT, certificate_ef(certs.auth_cert)))
    applet.add(BinaryFile(JpkiFile.AUTH_CA_CERT, certificate_ef(certs.auth_ca_cert)))
    applet.add(BinaryFile(JpkiFile.TOKEN_INFO, token_info(identity.token_serial)))
    applet.add(BinaryFile(JpkiFile.CERT_AVAILABILITY, certificate_availability()))
    # Purpose unknown; no cardholder credential opens it [obs]. Its size is not known:
    # 16 filler bytes stand for its contents.
    applet.add(BinaryFile(JpkiFile.PROTECTED_0009, bytes([FILLER]) * 16, ReadAccess.protected()))
    applet.add(InternalFile(JpkiFile.TERMINAL_CA))
    applet.add(KeyFile(JpkiFile.AUTH_KEY, KeyKind.AUTH, PinKind.AUTH))
    applet.add(PinFile(JpkiFile.AUTH_PIN, PinKind.AUTH))
    applet.add(KeyFile(JpkiFile.SIGN_KEY, KeyKind.SIGN, PinKind.SIGN))
    applet.add(PinFile(JpkiFile.SIGN_PIN, PinKind.SIGN))
    return applet


def card_info_applet(persona: Persona, sign: IntegritySigner) -> Applet:
    my_number = my_number_record(persona)
    basic_four = basic_four_record(persona)
    integrity = integrity_record(my_number, basic_four, sign)
    applet = Applet(Aid.CARD_INFO.value, "card-info input helper")
    # EF 0001 is exactly the 17-byte record: its two trailing FF are its filler.
    applet.add(BinaryFile(CardInfoFile.MY_NUMBER, my_number, ReadAccess.after(PinKind.CARD_INFO)))
    applet.add(
        BinaryFile(
            CardInfoFile.BASIC_FOUR,
            with_filler(basic_four, padded_size(len(basic_four))),
            ReadAccess.after(PinKind.CARD_INFO),
        )
    )
    applet.add(
        BinaryFile(
            CardInfoFile.INTEGRITY,
            with_filler(integrity, padded_size(len(integrity))),
            ReadAccess.after(PinKind.CARD_INFO),
        )
    )
    applet.add(PinFile(CardInfoFile.PIN, PinKind.CARD_INFO))
    return applet


def build_filesystem(
    persona: Persona,
    certs: IssuedCertificates,
    sign: IntegritySigner,
    identity: CardIdentity | None = None,
) -> FileSystem:
    """All four applets; card surface and resident registry answer SELECT but hold no
    files this card implements."""
    identity = identity or card_identity(persona, dt.date.today())
    fs = FileSystem()
    fs.add(jpki_applet(certs, identity))
    fs.add(card_info_applet(persona, sign))
    fs.add(Applet(Aid.CARD_SURFACE.value, "card surface"))
    fs.add(Applet(Aid.RESIDENT_REGISTRY.value, "resident registry"))
    return fs
