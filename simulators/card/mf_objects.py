"""The card-level data objects GET DATA answers with the MF current
(real-card-notes.md §5): identity values and a chain of card-verifiable (CV)
certificates. Real cards carry J-LIS keys; here a process-wide synthetic CV authority
(root and intermediate, generated on first use like the integrity key) signs them, and
the intermediate certifies the key that signs the card-info integrity record."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import encode_tlv
from simulators.card.contents import CardIdentity

TAG_ISSUER_ID = 0x0042
TAG_CARD_ID = 0x0045
TAG_CARD_RECOGNITION = 0x0066
TAG_MUNICIPALITY = 0x00F0
TAG_EXPIRY = 0x00F2
TAG_INTERMEDIATE_KEY_ID = 0x00F7
TAG_CV_ROOT_TO_INTERMEDIATE = 0x00F8
TAG_CV_INTERMEDIATE_TO_KEY = 0x7F21

TAG_CV_CERTIFICATE = 0x7F21
TAG_CV_BODY = 0x5F4E
TAG_CV_SIGNATURE = 0x5F37
TAG_RSA_EXPONENT = 0x90
TAG_RSA_MODULUS = 0x91
KEY_ID_SIZE = 16

# Key ids in the cards' "NNNNNNN/VVV" form. The root's number is the test card's
# (6000020 per the notes); the others are synthetic.
ROOT_KEY_ID = "6000020/001"
INTERMEDIATE_KEY_ID = "6000021/001"
CARD_ISSUER_KEY_ID = "6000022/001"

# GlobalPlatform card recognition data: the template 73 with the GP RID OID, the card
# management type and version (GP 2.2), the card identification scheme.
CARD_RECOGNITION_DATA = bytes.fromhex(
    "732E"
    "06072A864886FC6B01"
    "600B06092A864886FC6B020202"
    "630906072A864886FC6B03"
    "640B06092A864886FC6B040215"
)


def key_id(text: str) -> bytes:
    """A 16-byte key id: ASCII, space padded (the padding byte is not recorded)."""
    raw = text.encode("ascii")
    if len(raw) > KEY_ID_SIZE:
        raise ValueError(f"key id {text!r} is longer than {KEY_ID_SIZE} bytes")
    return raw.ljust(KEY_ID_SIZE, b" ")


def rsa_public_key_object(public_key: rsa.RSAPublicKey) -> bytes:
    """The cards' own RSA public key encoding: 90 <exponent> 91 <modulus> (265 bytes
    for RSA-2048 with e=65537)."""
    numbers = public_key.public_numbers()
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    return encode_tlv(TAG_RSA_EXPONENT, exponent) + encode_tlv(TAG_RSA_MODULUS, modulus)


def cv_certificate(
    issuer: str, subject: str, subject_key: rsa.RSAPublicKey, signer: rsa.RSAPrivateKey
) -> bytes:
    """7F21 { 5F4E <issuer id, subject id, public key>, 5F37 <signature> }: the
    signature is PKCS#1 v1.5 SHA-256 over the 5F4E object as encoded (synthetic: the
    real cards' signature input is not recorded)."""
    body = encode_tlv(
        TAG_CV_BODY, key_id(issuer) + key_id(subject) + rsa_public_key_object(subject_key)
    )
    signature = signer.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return encode_tlv(TAG_CV_CERTIFICATE, body + encode_tlv(TAG_CV_SIGNATURE, signature))


def template_contents(certificate: bytes) -> bytes:
    """What GET DATA returns for a CV certificate: the 7F21 template's value [obs]."""
    header = 2 + (1 if certificate[2] < 0x80 else 1 + (certificate[2] & 0x7F))
    return certificate[header:]


@dataclass(frozen=True)
class CvAuthority:
    root: rsa.RSAPrivateKey
    intermediate: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return "CvAuthority(<private keys not shown>)"


_lock = threading.Lock()
_authority: CvAuthority | None = None


def cv_authority() -> CvAuthority:
    global _authority
    with _lock:
        if _authority is None:
            _authority = CvAuthority(
                rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
            )
        return _authority


def mf_data_objects(identity: CardIdentity, card_issuer_key: rsa.RSAPublicKey) -> dict[int, bytes]:
    """The GET DATA objects, by tag. 5F51 (the ATR) is not stored: the card OS answers
    it from the ATR it presents."""
    authority = cv_authority()
    upper = cv_certificate(
        ROOT_KEY_ID, INTERMEDIATE_KEY_ID, authority.intermediate.public_key(), authority.root
    )
    lower = cv_certificate(
        INTERMEDIATE_KEY_ID, CARD_ISSUER_KEY_ID, card_issuer_key, authority.intermediate
    )
    return {
        TAG_ISSUER_ID: key_id(ROOT_KEY_ID),
        TAG_CARD_ID: identity.serial.encode("ascii"),
        TAG_CARD_RECOGNITION: CARD_RECOGNITION_DATA,
        TAG_MUNICIPALITY: identity.municipality.encode("ascii"),
        TAG_EXPIRY: identity.expiry.strftime("%Y%m%d").encode("ascii"),
        TAG_INTERMEDIATE_KEY_ID: key_id(INTERMEDIATE_KEY_ID),
        TAG_CV_ROOT_TO_INTERMEDIATE: template_contents(upper),
        TAG_CV_INTERMEDIATE_TO_KEY: template_contents(lower),
    }
