"""The card-surface applet's record layout (real-card-notes.md §3), shared by the reader
(jpki.surface_ap) and the software card that writes it (simulators.card.surface): the
TLV tags of each EF and the DigestInfo the face signature (DF28) wraps."""

from __future__ import annotations

import hashlib

# EF 0001: the age record
TAG_AGE_RECORD = 0xFF10
TAG_AGE_BIRTH_DATE = 0xDF11
TAG_AGE_CARD_KEY = 0xDF12
TAG_AGE_SIGNATURE = 0xDF13
# EF 0002: the card face
TAG_FACE = 0xFF20
TAG_BIRTH_DATE = 0xDF22
TAG_SEX = 0xDF23
TAG_CARD_KEY = 0xDF24
TAG_NAME_IMAGE = 0xDF25
TAG_ADDRESS_IMAGE = 0xDF26
TAG_PHOTO = 0xDF27
TAG_SIGNATURE = 0xDF28
TAG_EXPIRY = 0xDF29
TAG_SECURITY_CODE_IMAGE = 0xDF2A
FACE_FIELDS = tuple(range(TAG_BIRTH_DATE, TAG_SECURITY_CODE_IMAGE + 1))
# EF 0003: the key info
TAG_KEY_INFO = 0xFF30
# EF 0005: the My Number image
TAG_MY_NUMBER_RECORD = 0xFF40
TAG_MY_NUMBER_IMAGE = 0xDF41
TAG_MY_NUMBER_CARD_KEY = 0xDF42
TAG_MY_NUMBER_SIGNATURE = 0xDF43

# DigestInfo header for 96 bytes of SHA-256 hashes: SEQUENCE { sha256 AlgorithmIdentifier,
# OCTET STRING (96) }, 19 bytes + 96 = 115 (`30 71 ... 04 60`, notes §3).
FACE_DIGEST_INFO_PREFIX = bytes.fromhex("3071300d060960864801650304020105000460")


def face_digest_info(fields: dict[int, bytes]) -> bytes:
    """The 115-byte DigestInfo DF28 signs: SHA-256 over DF22..DF24, over DF25..DF26 and
    over DF27, each hashing the TLV objects as written (tag, length, value)."""
    first = hashlib.sha256(fields[TAG_BIRTH_DATE] + fields[TAG_SEX] + fields[TAG_CARD_KEY])
    second = hashlib.sha256(fields[TAG_NAME_IMAGE] + fields[TAG_ADDRESS_IMAGE])
    third = hashlib.sha256(fields[TAG_PHOTO])
    return FACE_DIGEST_INFO_PREFIX + first.digest() + second.digest() + third.digest()
