"""Wire format of the card's administrative (issuer) commands: a MODEL.

The real Individual Number Card is personalised and maintained (key generation,
certificate writing, PIN setting and reset at the municipal counter) through a channel
protected by the issuer's keys that J-LIS does not publish. This project models that
channel with standard ISO 7816-4/-8 commands behind an issuer authentication, so that
the counter's flows can be built and tested end to end. Nothing here describes the real
card's protocol; a client written against it will not work on a real card's admin side.

The model (the software card implements it in simulators/card/admin.py, the host side in
jpki/issuance.py):

- GET CHALLENGE `00 84 00 00 Le` (a real card command) gives a random challenge.
- EXTERNAL AUTHENTICATE `00 82 00 81 Lc <64 bytes>`: an ECDSA P-256 / SHA-256 signature
  (raw r || s) by the issuer's administration key over `issuer_auth_message(challenge)`.
  The card holds only the public half, written when the card was made. Success opens
  the admin state for the selected applet until the next applet SELECT or power-down.
- GENERATE ASYMMETRIC KEY PAIR `00 46 80 00 Lc { 84 01 <key ref>, 80 <nonce> } 00`:
  a new RSA-2048 key into the key's staging slot; answers `7F49 { 81 n, 82 e }` followed
  by `9E <signature>`, the new key's PKCS#1 v1.5 SHA-256 signature over
  `pop_message(public_key_tlv, nonce)`: the proof of possession the issuer checks.
- GENERATE ASYMMETRIC KEY PAIR with P1=81 and only `84 01 <key ref>`: the LIVE key's
  public key `7F49 { 81 n, 82 e }` (no key is generated).
- UPDATE BINARY `00 D6 <offset> Lc <data>` on a certificate EF writes its staged image.
- ACTIVATE FILE `00 44 00 00`: every staged key and certificate becomes live at once.
- CHANGE REFERENCE DATA `00 24 01 80 Lc <PIN>` on a PIN not yet set sets it.
- RESET RETRY COUNTER `00 2C 02 80 Lc <PIN>` (new value) or `00 2C 03 80` (counter only).
"""

from __future__ import annotations

from card.tlv import TlvError, encode_tlv, iter_tlvs, read_tlv
from jpki.constants import KeyKind

INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_GENERATE_KEY_PAIR = 0x46
INS_UPDATE_BINARY = 0xD6
INS_ACTIVATE_FILE = 0x44
INS_RESET_RETRY_COUNTER = 0x2C

ISSUER_KEY_REFERENCE = 0x81  # P2 of EXTERNAL AUTHENTICATE
GENERATE_P1 = 0x80  # generate a new key pair (ISO 7816-8)
READ_PUBLIC_KEY_P1 = 0x81  # read the public key of the live key pair (ISO 7816-8)
RRC_NEW_VALUE = 0x02  # RESET RETRY COUNTER: data = new reference data
RRC_COUNTER_ONLY = 0x03  # RESET RETRY COUNTER: no data, the value stays

CHALLENGE_LENGTH = 16
MIN_CHALLENGE_LENGTH = 8
ECDSA_P256_SIGNATURE_LENGTH = 64
POP_NONCE_MIN = 16
POP_NONCE_MAX = 64

TAG_KEY_REFERENCE = 0x84
TAG_POP_NONCE = 0x80
TAG_PUBLIC_KEY = 0x7F49
TAG_MODULUS = 0x81
TAG_EXPONENT = 0x82
TAG_POP_SIGNATURE = 0x9E

AUTH_MESSAGE_PREFIX = b"MYNATERM-ISSUER-AUTH-MODEL-v1\x00"
POP_MESSAGE_PREFIX = b"MYNATERM-KEY-POSSESSION-MODEL-v1\x00"

# Key references in GENERATE: the key EF's id, as P2 of COMPUTE DIGITAL SIGNATURE uses.
KEY_REFERENCES: dict[int, KeyKind] = {0x17: KeyKind.AUTH, 0x1A: KeyKind.SIGN}


def key_reference(kind: KeyKind) -> int:
    return int(kind.file)


def issuer_auth_message(challenge: bytes) -> bytes:
    """What the issuer signs to answer a card's challenge (domain-separated)."""
    return AUTH_MESSAGE_PREFIX + challenge


def pop_message(public_key_tlv: bytes, nonce: bytes) -> bytes:
    """What a freshly generated key signs: the issuer's nonce, then its own public key
    as the card encoded it, so the signature binds the key to this request."""
    return POP_MESSAGE_PREFIX + len(nonce).to_bytes(1, "big") + nonce + public_key_tlv


def generate_command_data(kind: KeyKind, nonce: bytes) -> bytes:
    return encode_tlv(TAG_KEY_REFERENCE, bytes([key_reference(kind)])) + encode_tlv(
        TAG_POP_NONCE, nonce
    )


def read_public_key_command_data(kind: KeyKind) -> bytes:
    return encode_tlv(TAG_KEY_REFERENCE, bytes([key_reference(kind)]))


def decode_public_key(data: bytes) -> tuple[int, int]:
    """(n, e) from a 7F49 template that fills `data` exactly; TlvError otherwise."""
    public = read_tlv(data, 0)
    if public.tag != TAG_PUBLIC_KEY or public.total_length != len(data):
        raise TlvError("not a 7F49 public key template")
    fields = {child.tag: child.value for child in iter_tlvs(public.value)}
    if set(fields) != {TAG_MODULUS, TAG_EXPONENT}:
        raise TlvError("public key template must hold exactly 81 and 82")
    return int.from_bytes(fields[TAG_MODULUS], "big"), int.from_bytes(fields[TAG_EXPONENT], "big")


def encode_public_key(modulus: int, exponent: int) -> bytes:
    n = modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")
    e = exponent.to_bytes((exponent.bit_length() + 7) // 8, "big")
    return encode_tlv(TAG_PUBLIC_KEY, encode_tlv(TAG_MODULUS, n) + encode_tlv(TAG_EXPONENT, e))


def decode_generate_response(data: bytes) -> tuple[bytes, int, int, bytes]:
    """Split GENERATE's answer into (public key TLV as sent, n, e, PoP signature).
    Raises TlvError for anything else."""
    public = read_tlv(data, 0)
    if public.tag != TAG_PUBLIC_KEY:
        raise TlvError("GENERATE answer does not start with 7F49")
    rest = data[public.total_length :]
    signature = read_tlv(rest, 0)
    if signature.tag != TAG_POP_SIGNATURE or signature.total_length != len(rest):
        raise TlvError("GENERATE answer lacks the 9E proof-of-possession signature")
    modulus, exponent = decode_public_key(data[: public.total_length])
    return data[: public.total_length], modulus, exponent, signature.value
