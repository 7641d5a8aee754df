"""Reading the parts of a JPKI certificate that validation needs: kind fitness (key
usage, extended key usage, policy) and where revocation is published."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

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


class ParsedCertificate:
    """A certificate's DER as received and cryptography's (lazy) parse of exactly those
    bytes. Made by parse_der only, so the two always agree: a caller that needs the
    parsed object first (the login token validator reads the key) hands this pair to
    the path validator instead of having the certificate parsed twice.

    Read-only; a plain slotted class rather than a frozen dataclass because one is made
    per login token and the dataclass costs about a microsecond more to build."""

    __slots__ = ("_certificate", "_der", "_sha256")

    def __init__(self, der: bytes, certificate: x509.Certificate) -> None:
        self._der = der
        self._certificate = certificate
        # Computed here, so the path validator's cache key is never taken from anywhere
        # but these bytes (and only once per token).
        self._sha256 = hashlib.sha256(der).digest()

    @property
    def der(self) -> bytes:
        return self._der

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def sha256(self) -> bytes:
        return self._sha256


@dataclass(frozen=True)
class SignedParts:
    """What the issuer's signature check needs, cut from the DER as received. The CA
    signed these exact bytes; cryptography's tbs_certificate_bytes re-encodes the TBS
    on every call (about 12 us, as much as the parse itself)."""

    der: bytes  # the whole certificate (decoded, when it came as PEM)
    tbs: bytes  # the tbsCertificate TLV
    algorithm: bytes  # the outer signatureAlgorithm TLV
    tbs_algorithm: bytes  # the signature field inside the TBS (RFC 5280 4.1.2.3)
    serial: int


def parse_der(der: bytes) -> ParsedCertificate:
    """cryptography's parse of DER `der`, or MalformedCertificateError. Only the outer
    structure is read here; load_signed does the full checks."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise MalformedCertificateError("certificate must be bytes")
    data = bytes(der)
    try:
        return ParsedCertificate(data, x509.load_der_x509_certificate(data))
    except LIBRARY_PARSE_ERRORS as exc:
        raise MalformedCertificateError(f"not an X.509 certificate: {exc}") from exc


def load_certificate(der: bytes) -> x509.Certificate:
    """Parse DER (or PEM, for convenience) into a certificate, or raise
    MalformedCertificateError. Extensions are parsed here too, so later steps cannot
    stumble on a malformed one."""
    return load_signed(der)[0]


def load_signed(
    der: bytes, parsed: x509.Certificate | None = None
) -> tuple[x509.Certificate, SignedParts]:
    """load_certificate, also returning the signed parts. `parsed`, when given, must be
    cryptography's parse of the DER `der` (a ParsedCertificate's pair): it is checked
    instead of parsing again."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise MalformedCertificateError("certificate must be bytes")
    data = bytes(der)
    try:
        if parsed is not None:
            cert = parsed
        elif data.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(data)
            data = cert.public_bytes(Encoding.DER)
        else:
            cert = x509.load_der_x509_certificate(data)
        _ = cert.extensions  # parse now: a bad extension is a malformed certificate
        _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        _ = cert.issuer, cert.subject
        # The walk runs over the bytes as received (DER) and reads the serial itself, so
        # cryptography's warning on a negative serial is never triggered (no per-call
        # warnings.catch_warnings) and a non-positive one is refused below.
        parts = signed_parts(data)
    except LIBRARY_PARSE_ERRORS as exc:
        raise MalformedCertificateError(f"not an X.509 certificate: {exc}") from exc
    if cert.version is not x509.Version.v3:
        raise MalformedCertificateError("not a version 3 certificate")
    if parts.serial <= 0:
        raise MalformedCertificateError("serial number is not positive (RFC 5280 4.1.2.2)")
    return cert, parts


def signed_parts(data: bytes) -> SignedParts:
    """The signed shape check (no trailing bytes, no unused signature bits) and the
    parts of Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
    signatureValue } that verifying it needs. Raises DerError (a ValueError)."""
    tbs_start, tbs_end, alg_end = derlib.check_signed_shape(data)
    # TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, ... }
    pos, stop = derlib.expect(data, tbs_start, tbs_end, 0x30)
    tag, _, next_pos = derlib.read_header(data, pos, stop)
    if tag == 0xA0:
        pos = next_pos
    serial_start, serial_end = derlib.expect(data, pos, stop, 0x02)
    _, tbs_alg_end = derlib.expect(data, serial_end, stop, 0x30)
    return SignedParts(
        der=data,
        tbs=data[tbs_start:tbs_end],
        algorithm=data[tbs_end:alg_end],
        tbs_algorithm=data[serial_end:tbs_alg_end],
        serial=derlib.integer_value(data[serial_start:serial_end]),
    )


def common_name(cert: x509.Certificate) -> str:
    """The subject's first commonName ("" when there is none)."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def check_fit_for_kind(cert: x509.Certificate, kind: CertKind) -> None:
    """Key usage, extended key usage and policy as JPKI issues them for `kind`.
    Raises UntrustedCertificateError naming what is missing."""

    def untrusted(why: str, reason: str) -> UntrustedCertificateError:
        # The names are rendered only for a refusal: rfc4514_string costs microseconds.
        return UntrustedCertificateError(
            f"{why} for a {kind.value} certificate",
            reason=reason,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
        )

    # One pass over the extensions (each get_extension_for_class is another scan).
    # cryptography refuses duplicate extensions, so one value per class is all there is.
    values: dict[type[x509.ExtensionType], x509.ExtensionType] = {}
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
            raise untrusted(
                f"unknown critical extension {ext.oid.dotted_string}", "unknown-critical-extension"
            )
        values[type(ext.value)] = ext.value
    bc = _pick(values, x509.BasicConstraints)
    if kind in (CertKind.AUTH_CA, CertKind.SIGN_CA):
        if bc is None or not bc.ca:
            raise untrusted("not a CA certificate", "not-ca")
        return
    if bc is not None and bc.ca:
        raise untrusted("a CA certificate is not acceptable", "is-ca")

    ku = _pick(values, x509.KeyUsage)
    if ku is None or not ku.digital_signature:
        raise untrusted("key usage lacks digitalSignature", "key-usage")
    policies = _pick(values, x509.CertificatePolicies)
    policy_oids = {p.policy_identifier.dotted_string for p in policies or ()}
    if kind is CertKind.AUTH:
        eku = _pick(values, x509.ExtendedKeyUsage)
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
    """Where a certificate's revocation status is published. `partition_id` is the
    directoryName distribution point as an RFC 4514 string, which names the CRL
    partition; `crl_urls` are URI distribution points (where to fetch); `ocsp_urls` from
    AIA. Plain strings, so a validator can keep them per certificate cheaply."""

    partition_id: str | None
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]


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
    partition_id = None if partition is None else partition.rfc4514_string()
    return RevocationPointers(partition_id, tuple(urls), tuple(ocsp))


def _pick(values: dict[type[x509.ExtensionType], x509.ExtensionType], kind: type[_T]) -> _T | None:
    value = values.get(kind)
    return value if isinstance(value, kind) else None


def _extension(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
