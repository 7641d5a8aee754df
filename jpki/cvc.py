"""Card-verifiable (CV) certificates and the signed records of the 券面 applets
(real-card-notes.md §2, §3, §5).

A CV certificate is `7F21 { 5F4E { issuer key id (16), subject key id (16), subject key
(90 e, 91 n) }, 5F37 signature }`. It names its issuer by the 16-byte 証明者鍵ID and does
not carry the issuer's key: the verifier holds those (`TrustedCvKeys`). GET DATA returns
the same certificate without the 7F21 wrapper; `parse_cv_certificate` takes either form.

The certificate signature is checked as RSA PKCS#1 v1.5 SHA-256 over the 5F4E object as
written (docs/decisions.md, issue 11: the notes do not give the scheme)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import Tlv, TlvError, iter_tlvs, read_tlv
from jpki.errors import CardDataError

TAG_CV_CERTIFICATE = 0x7F21
TAG_CV_BODY = 0x5F4E
TAG_CV_SIGNATURE = 0x5F37
TAG_EXPONENT = 0x90
TAG_MODULUS = 0x91
KEY_ID_LENGTH = 16
MAX_MODULUS_BYTES = 512


class SignatureMismatchError(CardDataError):
    """A signature on the card does not verify: the record was altered, or was not
    signed by the key the card's CV certificate names."""

    code = "CARD_SIGNATURE_INVALID"


class UnknownIssuerError(CardDataError):
    """The CV certificate names an issuer key the verifier does not hold: nothing
    could be checked."""

    code = "CARD_ISSUER_UNTRUSTED"


TrustedCvKeys = Mapping[bytes, rsa.RSAPublicKey]


def key_id(name: str, last: int = 0) -> bytes:
    """A 16-byte 証明者鍵ID as cards write it: 7 ASCII digits, 08 05, 3 ASCII digits,
    three NULs and a last byte. "6000023/001" (or "6000023") -> 16 bytes."""
    number, _, generation = name.partition("/")
    generation = generation or "001"
    if len(number) != 7 or not number.isdigit() or len(generation) != 3:
        raise ValueError(f"not a key id: {name!r}")
    return number.encode() + b"\x08\x05" + generation.encode() + b"\x00\x00\x00" + bytes([last])


def key_id_text(raw: bytes) -> str:
    """'6000023/001' for a 16-byte key id (for messages and display)."""
    try:
        return f"{raw[:7].decode('ascii')}/{raw[9:12].decode('ascii')}"
    except UnicodeDecodeError:
        return raw.hex()


def load_trusted_cv_keys(directory: Path) -> dict[bytes, rsa.RSAPublicKey]:
    """Issuer public keys from `<7-digit id>.pem` files (SubjectPublicKeyInfo PEM)."""
    keys: dict[bytes, rsa.RSAPublicKey] = {}
    for path in sorted(Path(directory).glob("*.pem")):
        try:
            identifier = key_id(path.stem)
            key = serialization.load_pem_public_key(path.read_bytes())
        except (ValueError, OSError) as exc:
            raise CardDataError(f"unusable CV issuer key {path.name}: {exc}") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise CardDataError(f"CV issuer key {path.name} is not RSA")
        keys[identifier] = key
    return keys


def parse_rsa_key(raw: bytes, what: str) -> rsa.RSAPublicKey:
    """A public key in the card's encoding, `90 <e> 91 <n>`."""
    try:
        items = {item.tag: item.value for item in iter_tlvs(raw)}
    except TlvError as exc:
        raise CardDataError(f"{what}: {exc}") from exc
    exponent, modulus = items.get(TAG_EXPONENT), items.get(TAG_MODULUS)
    if exponent is None or modulus is None or not modulus or len(modulus) > MAX_MODULUS_BYTES:
        raise CardDataError(f"{what}: not a 90/91 RSA public key")
    e, n = int.from_bytes(exponent, "big"), int.from_bytes(modulus, "big")
    if e < 3 or e % 2 == 0 or n.bit_length() < 1024:
        raise CardDataError(f"{what}: RSA public key out of range")
    return rsa.RSAPublicNumbers(e, n).public_key()


@dataclass(frozen=True, slots=True)
class CvCertificate:
    issuer_id: bytes
    subject_id: bytes
    public_key: rsa.RSAPublicKey
    body: bytes  # the 5F4E object as written: what the signature covers
    signature: bytes

    @property
    def issuer(self) -> str:
        return key_id_text(self.issuer_id)

    @property
    def subject(self) -> str:
        return key_id_text(self.subject_id)

    def verify(self, trusted: TrustedCvKeys) -> rsa.RSAPublicKey:
        """Check the signature against the trusted issuer key; return the subject key.
        UnknownIssuerError when the issuer is not held, SignatureMismatchError when the
        signature does not verify."""
        issuer_key = trusted.get(self.issuer_id)
        if issuer_key is None:
            raise UnknownIssuerError(f"CV certificate issuer {self.issuer} is not trusted")
        verify_sha256(issuer_key, self.signature, self.body, f"CV certificate of {self.subject}")
        return self.public_key


def parse_cv_certificate(raw: bytes) -> CvCertificate:
    """A CV certificate, with or without its 7F21 wrapper; filler after it is ignored."""
    try:
        outer = read_tlv(raw)
        content = outer.value if outer.tag == TAG_CV_CERTIFICATE else raw
        objects = dict(raw_objects(content))
    except TlvError as exc:
        raise CardDataError(f"CV certificate: {exc}") from exc
    body, signature = objects.get(TAG_CV_BODY), objects.get(TAG_CV_SIGNATURE)
    if body is None or signature is None:
        raise CardDataError("CV certificate: 5F4E or 5F37 missing")
    value, signature_value = read_tlv(body).value, read_tlv(signature).value
    if len(value) < 2 * KEY_ID_LENGTH + 8:
        raise CardDataError("CV certificate: body too short")
    public_key = parse_rsa_key(value[2 * KEY_ID_LENGTH :], "CV certificate key")
    return CvCertificate(
        value[:KEY_ID_LENGTH],
        value[KEY_ID_LENGTH : 2 * KEY_ID_LENGTH],
        public_key,
        body,
        signature_value,
    )


def raw_objects(content: bytes) -> list[tuple[int, bytes]]:
    """(tag, the object's bytes as written) for each TLV of `content`, up to the end or
    the first filler byte (00 or FF, which no tag here starts with)."""
    out: list[tuple[int, bytes]] = []
    position = 0
    while position < len(content) and content[position] not in (0x00, 0xFF):
        item: Tlv = read_tlv(content, position)
        out.append((item.tag, content[position : position + item.total_length]))
        position += item.total_length
    return out


def verify_sha256(key: rsa.RSAPublicKey, signature: bytes, data: bytes, what: str) -> None:
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise SignatureMismatchError(f"the signature over the {what} does not verify") from None


def verify_digest_info(key: rsa.RSAPublicKey, signature: bytes, expected: bytes, what: str) -> None:
    """A PKCS#1 v1.5 signature whose DigestInfo is given whole (the card-surface face
    signature wraps three hashes)."""
    try:
        recovered = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        raise SignatureMismatchError(f"the signature over the {what} does not verify") from None
    if not hmac.compare_digest(recovered, expected):
        raise SignatureMismatchError(f"the {what} does not match its signature")
