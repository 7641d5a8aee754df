"""Reading the parts of a JPKI certificate that validation needs: kind fitness (key
usage, extended key usage, policy) and where revocation is published."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from jpki.constants import OID_AUTH_POLICY, OID_SIGN_POLICY, CertKind
from jpki.validation import der as derlib
from jpki.validation.errors import (
    LIBRARY_PARSE_ERRORS,
    MalformedCertificateError,
    UntrustedCertificateError,
)

_T = TypeVar("_T", bound=x509.ExtensionType)

# Extensions validation understands; any other extension marked critical makes the
# certificate unacceptable (RFC 5280 4.2).
_UNDERSTOOD_CRITICAL = {
    x509.oid.ExtensionOID.KEY_USAGE,
    x509.oid.ExtensionOID.EXTENDED_KEY_USAGE,
    x509.oid.ExtensionOID.CERTIFICATE_POLICIES,
    x509.oid.ExtensionOID.BASIC_CONSTRAINTS,
    x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    x509.oid.ExtensionOID.ISSUER_ALTERNATIVE_NAME,
    x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    x509.oid.ExtensionOID.CRL_DISTRIBUTION_POINTS,
    x509.oid.ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
}


def load_certificate(der: bytes) -> x509.Certificate:
    """Parse DER (or PEM, for convenience) into a certificate, or raise
    MalformedCertificateError. Extensions are parsed here too, so later steps cannot
    stumble on a malformed one."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise MalformedCertificateError("certificate must be bytes")
    data = bytes(der)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
        _ = cert.extensions  # parse now: a bad extension is a malformed certificate
        _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        _ = cert.issuer, cert.subject
        with warnings.catch_warnings():  # cryptography warns on a negative serial
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            serial = cert.serial_number
        derlib.check_signed_shape(cert.public_bytes(Encoding.DER))
    except LIBRARY_PARSE_ERRORS as exc:
        raise MalformedCertificateError(f"not an X.509 certificate: {exc}") from exc
    if cert.version is not x509.Version.v3:
        raise MalformedCertificateError("not a version 3 certificate")
    if serial <= 0:
        raise MalformedCertificateError("serial number is not positive (RFC 5280 4.1.2.2)")
    return cert


def check_fit_for_kind(cert: x509.Certificate, kind: CertKind) -> None:
    """Key usage, extended key usage and policy as JPKI issues them for `kind`.
    Raises UntrustedCertificateError naming what is missing."""
    subject = cert.subject.rfc4514_string()

    def untrusted(why: str, reason: str) -> UntrustedCertificateError:
        return UntrustedCertificateError(
            f"{why} for a {kind.value} certificate",
            reason=reason,
            subject=subject,
            issuer=cert.issuer.rfc4514_string(),
        )

    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
            raise untrusted(
                f"unknown critical extension {ext.oid.dotted_string}", "unknown-critical-extension"
            )
    bc = _extension(cert, x509.BasicConstraints)
    if kind in (CertKind.AUTH_CA, CertKind.SIGN_CA):
        if bc is None or not bc.ca:
            raise untrusted("not a CA certificate", "not-ca")
        return
    if bc is not None and bc.ca:
        raise untrusted("a CA certificate is not acceptable", "is-ca")

    ku = _extension(cert, x509.KeyUsage)
    if ku is None or not ku.digital_signature:
        raise untrusted("key usage lacks digitalSignature", "key-usage")
    policies = _extension(cert, x509.CertificatePolicies)
    policy_oids = {p.policy_identifier.dotted_string for p in policies or ()}
    if kind is CertKind.AUTH:
        eku = _extension(cert, x509.ExtendedKeyUsage)
        if eku is None or ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise untrusted("extended key usage lacks clientAuth", "extended-key-usage")
        wanted = OID_AUTH_POLICY
    else:
        if not ku.content_commitment:
            raise untrusted("key usage lacks nonRepudiation", "key-usage")
        wanted = OID_SIGN_POLICY
    if wanted not in policy_oids:
        raise untrusted(f"certificate policy {wanted} absent", "policy")


@dataclass(frozen=True)
class RevocationPointers:
    """Where a certificate's revocation status is published. `partition` is the
    directoryName distribution point (RFC 4514 string), which names the CRL partition;
    `crl_urls` are URI distribution points (where to fetch); `ocsp_urls` from AIA."""

    partition: x509.Name | None
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]

    @property
    def partition_id(self) -> str | None:
        return None if self.partition is None else self.partition.rfc4514_string()


def revocation_pointers(cert: x509.Certificate) -> RevocationPointers:
    partition: x509.Name | None = None
    urls: list[str] = []
    dps = _extension(cert, x509.CRLDistributionPoints)
    for dp in dps or ():
        if dp.full_name:
            for name in dp.full_name:
                if isinstance(name, x509.DirectoryName) and partition is None:
                    partition = name.value
                elif isinstance(name, x509.UniformResourceIdentifier):
                    urls.append(name.value)
        elif dp.relative_name is not None and partition is None:
            # nameRelativeToCRLIssuer: the issuer's name plus one RDN (RFC 5280 4.2.1.13)
            partition = x509.Name([*cert.issuer.rdns, dp.relative_name])
    ocsp: list[str] = []
    aia = _extension(cert, x509.AuthorityInformationAccess)
    for desc in aia or ():
        if desc.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
            desc.access_location, x509.UniformResourceIdentifier
        ):
            ocsp.append(desc.access_location.value)
    return RevocationPointers(partition, tuple(urls), tuple(ocsp))


def _extension(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
