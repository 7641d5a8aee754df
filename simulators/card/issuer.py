"""The test card issuer of the 券面 applets: the keys that sign the card-info and
card-surface records, and the CV-certificate chain a verifier checks them by.

Real cards (real-card-notes.md §2, §3): each 券面 applet's EF 0004 holds a card-verifiable
certificate (7F21) issued by a CA key named by its 16-byte 証明者鍵ID (6000023 for the
card-surface AP, 6000033 for the card-info AP on test cards). That certificate carries
the key that signs the applet's records (the card-surface EF 0003 names it 6000024/001,
the card-info EF 0005 names 6000034/001). The certificate does not carry its CA key: a
verifier holds those itself.

Here: two test CA ("root") keys with those ids, each certifying one signing key. All
four are RSA-2048, generated once per directory and kept there (private keys 0600), like
the test PKI's. `trust/<id>.pem` holds each root's public half: what a verifier holds.

The CV certificate's signature scheme is not in the notes; this issuer signs the 5F4E
object exactly as written with RSA PKCS#1 v1.5 SHA-256 (docs/decisions.md, issue 11)."""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.tlv import encode_tlv
from jpki.cvc import key_id
from simulators.home import mynaterm_home

RSA_BITS = 2048
RSA_EXPONENT = 65537
DEFAULT_SUBDIRECTORY = "card-issuer"

TAG_CV_CERTIFICATE = 0x7F21
TAG_CV_BODY = 0x5F4E
TAG_CV_SIGNATURE = 0x5F37
TAG_EXPONENT = 0x90
TAG_MODULUS = 0x91


def rsa_key_object(public_key: rsa.RSAPublicKey) -> bytes:
    """A public key in the card's own encoding: 90 <exponent> 91 <modulus>, 265 bytes
    for RSA-2048 with e = 65537."""
    numbers = public_key.public_numbers()
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    return encode_tlv(TAG_EXPONENT, exponent) + encode_tlv(TAG_MODULUS, modulus)


def sign_sha256(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """RSA PKCS#1 v1.5 with SHA-256 over `data`."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign_encoded(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes:
    """RSA PKCS#1 v1.5 type 1 over a DigestInfo given whole (the card-surface face
    signature wraps three hashes, which no hash object of `cryptography` describes)."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    if len(digest_info) > size - 11:
        raise ValueError("DigestInfo too long for the key")
    encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info
    signature = pow(int.from_bytes(encoded, "big"), numbers.d, n)
    return signature.to_bytes(size, "big")


def cv_certificate(
    issuer_key: rsa.RSAPrivateKey, issuer_id: bytes, subject_id: bytes, subject: rsa.RSAPublicKey
) -> bytes:
    """7F21 { 5F4E { issuer id (16), subject id (16), subject key (265) }, 5F37 sig },
    568 bytes for RSA-2048 keys (real-card-notes.md §3, EF 0004)."""
    if len(issuer_id) != 16 or len(subject_id) != 16:
        raise ValueError("key ids are 16 bytes")
    body = encode_tlv(TAG_CV_BODY, issuer_id + subject_id + rsa_key_object(subject))
    return encode_tlv(
        TAG_CV_CERTIFICATE, body + encode_tlv(TAG_CV_SIGNATURE, sign_sha256(issuer_key, body))
    )


@dataclass(frozen=True)
class ApIssuer:
    """One applet's chain: a root (CA) key, the signing key it certifies, and the CV
    certificate that says so."""

    root_id: bytes
    root_key: rsa.RSAPrivateKey
    signer_id: bytes
    signer_key: rsa.RSAPrivateKey
    certificate: bytes

    def __repr__(self) -> str:
        return f"ApIssuer(root={self.root_id[:7].decode()}, <private keys not shown>)"

    def sign(self, data: bytes) -> bytes:
        return sign_sha256(self.signer_key, data)

    def sign_digest_info(self, digest_info: bytes) -> bytes:
        return sign_encoded(self.signer_key, digest_info)

    @property
    def root_public_key(self) -> rsa.RSAPublicKey:
        return self.root_key.public_key()

    @property
    def signer_public_key(self) -> rsa.RSAPublicKey:
        return self.signer_key.public_key()


# name -> (root id, signer id): the ids the test cards carry (real-card-notes.md §2-§3).
_CHAINS = {
    "surface": ("6000023/001", "6000024/001"),
    "text": ("6000033/001", "6000034/001"),
}


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(
        path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA key")
    return key


def _key_or_new(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return _load_key(path)
    key = rsa.generate_private_key(RSA_EXPONENT, RSA_BITS)
    _write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return key


class CardIssuerKeys:
    """The test card issuer in a directory. `open_or_create` generates the keys on
    first use (under a file lock, so parallel processes agree) and reads them after."""

    __test__ = False

    def __init__(self, directory: Path, surface: ApIssuer, text: ApIssuer) -> None:
        self.directory = directory
        self.surface = surface
        self.text = text

    def __repr__(self) -> str:
        return f"CardIssuerKeys({self.directory})"

    @classmethod
    def open_or_create(cls, directory: Path) -> CardIssuerKeys:
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                chains = {name: cls._chain(directory, name) for name in _CHAINS}
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return cls(directory, chains["surface"], chains["text"])

    @staticmethod
    def _chain(directory: Path, name: str) -> ApIssuer:
        root_name, signer_name = _CHAINS[name]
        root_key = _key_or_new(directory / f"{name}-root.key.pem")
        signer_key = _key_or_new(directory / f"{name}-signer.key.pem")
        root_id, signer_id = key_id(root_name), key_id(signer_name)
        trust = directory / "trust"
        trust.mkdir(exist_ok=True)
        anchor = trust / f"{root_name.split('/')[0]}.pem"
        public = root_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Rewritten when it differs (a root key replaced by hand): a stale anchor would
        # make every card of this issuer fail its check.
        if not anchor.exists() or anchor.read_bytes() != public:
            anchor.write_bytes(public)
        certificate = cv_certificate(root_key, root_id, signer_id, signer_key.public_key())
        return ApIssuer(root_id, root_key, signer_id, signer_key, certificate)

    @property
    def trust_directory(self) -> Path:
        """Public halves of the roots, `<7-digit id>.pem`: what a verifier holds."""
        return self.directory / "trust"

    def trusted_roots(self) -> dict[bytes, rsa.RSAPublicKey]:
        return {chain.root_id: chain.root_public_key for chain in (self.surface, self.text)}


_cache_lock = threading.Lock()
_cache: dict[Path, CardIssuerKeys] = {}


def card_issuer_directory(pki_directory: Path | None = None) -> Path:
    """Beside the test PKI when there is one (`<pki>/card-issuer`), else
    $MYNATERM_HOME/card-issuer."""
    if pki_directory is not None:
        return Path(pki_directory) / DEFAULT_SUBDIRECTORY
    return mynaterm_home() / DEFAULT_SUBDIRECTORY


def card_issuer_for(issuer: object) -> CardIssuerKeys:
    """The card issuer that goes with a CardIssuer (the test PKI has a `directory`), cached
    per directory in this process so cards are made without re-reading keys."""
    pki_directory = getattr(issuer, "directory", None)
    directory = card_issuer_directory(Path(pki_directory) if pki_directory else None).resolve()
    with _cache_lock:
        cached = _cache.get(directory)
        if cached is None:
            cached = CardIssuerKeys.open_or_create(directory)
            _cache[directory] = cached
        return cached
