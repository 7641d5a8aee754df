"""The narrow seams that signatures and authentication are built on.

`DigestSigner` is anything that holds a certificate and can sign a digest with the
matching key: the card (through `JpkiCardSigner`) in production, a software key in
tests. `CertificateChecker` is the path validator (chain, validity, revocation) as far
as token and CMS verification need it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol, runtime_checkable

from jpki.constants import CertKind, KeyKind
from jpki.digestinfo import DIGEST_SIZES as CARD_DIGEST_SIZES

# Hash names this package signs with, and their digest sizes. SHA-1 is deliberately
# absent: a JPKI signature made today must not rest on it.
DIGEST_SIZES = {name: CARD_DIGEST_SIZES[name] for name in ("sha256", "sha384", "sha512")}


class UnsupportedHashError(ValueError):
    """The hash algorithm is not one of DIGEST_SIZES."""


def digest_of(data: bytes, hash_name: str) -> bytes:
    """`data` hashed with `hash_name` (one of DIGEST_SIZES)."""
    if hash_name not in DIGEST_SIZES:
        raise UnsupportedHashError(f"unsupported hash algorithm: {hash_name!r}")
    return hashlib.new(hash_name, data).digest()


def check_digest(digest: bytes, hash_name: str) -> None:
    """Raise unless `digest` has the size `hash_name` produces."""
    size = DIGEST_SIZES.get(hash_name)
    if size is None:
        raise UnsupportedHashError(f"unsupported hash algorithm: {hash_name!r}")
    if len(digest) != size:
        raise ValueError(f"a {hash_name} digest has {size} bytes, got {len(digest)}")


@runtime_checkable
class DigestSigner(Protocol):
    """Signs digests with RSA PKCS#1 v1.5 using the key of `certificate` (DER)."""

    @property
    def certificate(self) -> bytes: ...

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        """The PKCS#1 v1.5 signature over the DigestInfo of `digest`."""
        ...


class SigningSession(Protocol):
    """What `JpkiCardSigner` needs from the JPKI applet session (jpki.jpki_ap)."""

    def read_certificate(self, kind: CertKind) -> bytes: ...

    def sign(self, key: KeyKind, digest: bytes, hash_name: str = "sha256") -> bytes: ...


_CERT_OF_KEY = {KeyKind.AUTH: CertKind.AUTH, KeyKind.SIGN: CertKind.SIGN}


class JpkiCardSigner:
    """A DigestSigner backed by one key of the card's JPKI applet.

    Requires the key's PIN to have been verified on the session before `sign_digest`
    (and, for the sign key, before `certificate` is first read: the card hides the
    signature certificate until then). This class never verifies a PIN itself, so it
    can never spend a try the user did not ask for."""

    def __init__(
        self, session: SigningSession, key: KeyKind, certificate: bytes | None = None
    ) -> None:
        self._session = session
        self.key = key
        self._certificate = certificate

    @property
    def certificate(self) -> bytes:
        if self._certificate is None:
            self._certificate = self._session.read_certificate(_CERT_OF_KEY[self.key])
        return self._certificate

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        check_digest(digest, hash_name)
        return self._session.sign(self.key, digest, hash_name)


class CheckedCertificate(Protocol):
    """What verifiers read from a path validation result."""

    @property
    def serial(self) -> int: ...

    @property
    def issuer_key_id(self) -> bytes | None: ...


class CertificateChecker(Protocol):
    """Validates an end-entity certificate (chain to the CA of `kind`, validity at `at`,
    revocation): jpki.validation.CertificateValidator. Raises a
    jpki.validation.ValidationError (stable `.code`) when the certificate is not
    acceptable or the answer cannot be decided."""

    def validate(self, cert_der: bytes, kind: CertKind, *, at: datetime) -> CheckedCertificate: ...
