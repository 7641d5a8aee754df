"""Trust anchors: the self-signed JPKI CA certificates, several generations per DN.

JPKI renews its CA keys but keeps the CA's distinguished name, so the issuer name alone
does not say which key signed a certificate: pick the anchor whose key identifier equals
the certificate's authority key identifier, and confirm by the signature.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.constants import CertKind
from jpki.validation.certinfo import SignedParts
from jpki.validation.errors import (
    LIBRARY_PARSE_ERRORS,
    MalformedCertificateError,
    UntrustedCertificateError,
)
from jpki.validation.signatures import signature_valid

_DER = Encoding.DER

_PRODUCTION_ANCHORS = {
    "auth": ("auth_ca_2015.pem", "auth_ca_2023.pem"),
    "sign": ("sign_ca_2015.pem", "sign_ca_2023.pem"),
}


def key_identifier(cert: x509.Certificate) -> bytes:
    """The certificate's subject key identifier, or the RFC 5280 method-1 identifier
    (SHA-1 of the public key bits) when it has none."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def authority_key_identifier(cert: x509.Certificate) -> bytes | None:
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return aki.key_identifier


@dataclass(frozen=True)
class TrustAnchor:
    """One CA generation. `key_id` tells generations with the same DN apart."""

    certificate: x509.Certificate = field(repr=False, compare=False)
    der: bytes = field(repr=False)
    # Extracted once: every certificate this anchor issued is verified with it.
    public_key: CertificatePublicKeyTypes = field(repr=False, compare=False)
    subject: str
    key_id: bytes
    serial: int
    not_before: datetime
    not_after: datetime
    sha256: str

    @classmethod
    def from_der(cls, der: bytes) -> TrustAnchor:
        try:
            cert = x509.load_der_x509_certificate(der)
            return cls(
                certificate=cert,
                der=bytes(der),
                public_key=cert.public_key(),
                subject=cert.subject.rfc4514_string(),
                key_id=key_identifier(cert),
                serial=cert.serial_number,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                sha256=hashlib.sha256(der).hexdigest(),
            )
        except LIBRARY_PARSE_ERRORS as exc:
            raise MalformedCertificateError(f"trust anchor does not parse: {exc}") from exc

    @functools.cached_property  # read for every validation result
    def label(self) -> str:
        """A short human name of the generation, e.g. `...authentication (2015, 9567951B)`."""
        return f"{self.subject} ({self.not_before.year}, key {self.key_id.hex()[:8]})"


class TrustStore:
    """The configured anchors. Only a certificate directly issued by one of them is
    trusted (JPKI is single-tier)."""

    def __init__(self, anchors: Iterable[bytes]) -> None:
        self._anchors: tuple[TrustAnchor, ...] = tuple(TrustAnchor.from_der(d) for d in anchors)
        for anchor in self._anchors:
            _require_ca(anchor)

    @classmethod
    def from_pem_files(cls, paths: Iterable[str | Path]) -> TrustStore:
        ders: list[bytes] = []
        for path in paths:
            data = Path(path).read_bytes()
            try:
                certs = x509.load_pem_x509_certificates(data)
            except LIBRARY_PARSE_ERRORS as exc:
                raise MalformedCertificateError(f"{path}: no PEM certificate: {exc}") from exc
            ders.extend(c.public_bytes(_DER) for c in certs)
        return cls(ders)

    @classmethod
    def jpki_production(cls, kind: CertKind | str) -> TrustStore:
        """The real J-LIS CA generations shipped in jpki/anchors/ for `kind` (auth or sign;
        the CA kinds map to the same anchors)."""
        family = CertKind(kind).value.removesuffix("-ca")
        names = _PRODUCTION_ANCHORS[family]
        folder = resources.files("jpki.anchors")
        ders = [
            x509.load_pem_x509_certificate(folder.joinpath(n).read_bytes()).public_bytes(_DER)
            for n in names
        ]
        return cls(ders)

    @property
    def anchors(self) -> tuple[TrustAnchor, ...]:
        return self._anchors

    def __len__(self) -> int:
        return len(self._anchors)

    def by_key_id(self, key_id: bytes) -> TrustAnchor | None:
        return next((a for a in self._anchors if a.key_id == key_id), None)

    def candidates(self, cert: x509.Certificate) -> list[TrustAnchor]:
        """Anchors named as the certificate's issuer; narrowed to the generation whose key
        id matches the authority key identifier when the certificate has one."""
        aki = authority_key_identifier(cert)
        # Key ids first: comparing bytes is cheaper than comparing parsed names.
        pool = self._anchors if aki is None else [a for a in self._anchors if a.key_id == aki]
        return [a for a in pool if a.certificate.subject == cert.issuer]

    def issuer_of(self, cert: x509.Certificate, parts: SignedParts | None = None) -> TrustAnchor:
        """The anchor whose key verifies the certificate's signature.

        `parts`, from certinfo.load_signed, lets the signature be checked over the TBS as
        received instead of cryptography's re-encoding of it.

        Raises UntrustedCertificateError when no anchor has the issuer's name and key id,
        or when the signature does not verify under any of them."""
        candidates = self.candidates(cert)
        if not candidates:
            aki = authority_key_identifier(cert)
            issuer = cert.issuer.rfc4514_string()
            why = f"no trust anchor named {issuer}"
            if aki is not None and any(a.certificate.subject == cert.issuer for a in self._anchors):
                why += f" with key id {aki.hex()}"
            raise UntrustedCertificateError(
                why, reason="unknown-issuer", subject=cert.subject.rfc4514_string(), issuer=issuer
            )
        for anchor in candidates:
            if parts is None:
                if verify_issued_by(cert, anchor.certificate):
                    return anchor
            elif signed_by(cert, parts, anchor):
                return anchor
        issuer = cert.issuer.rfc4514_string()
        raise UntrustedCertificateError(
            f"signature does not verify under any anchor named {issuer}",
            reason="bad-signature",
            subject=cert.subject.rfc4514_string(),
            issuer=issuer,
        )


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer`'s name and key verify `cert` (signature over the raw TBS)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signed_by(cert: x509.Certificate, parts: SignedParts, anchor: TrustAnchor) -> bool:
    """verify_issued_by's checks with the anchor's key extracted once and the TBS as
    received: the issuer name is the anchor's subject, the signature algorithm inside the
    TBS is the one outside it, and the anchor's key verifies the signature."""
    if parts.tbs_algorithm != parts.algorithm or cert.issuer != anchor.certificate.subject:
        return False
    try:
        hash_algorithm = cert.signature_hash_algorithm
        parameters = cert.signature_algorithm_parameters
    except (UnsupportedAlgorithm, ValueError):
        return False
    return signature_valid(anchor.public_key, cert.signature, parts.tbs, hash_algorithm, parameters)


def _require_ca(anchor: TrustAnchor) -> None:
    try:
        bc = anchor.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        bc = None
    if bc is None or not bc.value.ca:
        raise UntrustedCertificateError(
            f"trust anchor {anchor.subject} is not a CA certificate",
            reason="anchor-not-ca",
            subject=anchor.subject,
        )


def anchors_of(store: TrustStore | Sequence[TrustAnchor]) -> tuple[TrustAnchor, ...]:
    return store.anchors if isinstance(store, TrustStore) else tuple(store)
