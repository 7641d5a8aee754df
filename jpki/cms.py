"""Detached CMS signatures (CAdES-BES) made with the card's signature key, and their
verification.

A signature is SignedData (RFC 5652) without the content, with signed attributes
content-type, message-digest, signing-time and signingCertificateV2 (RFC 5035, the
hash of the signer certificate plus its issuer and serial): that set is CAdES-BES
(ETSI EN 319 122-1). The card computes the RSA PKCS#1 v1.5 signature over the digest
of the DER-encoded signed attributes."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from jpki.basic_facts import BasicFourFromCert, basic_four_if_present
from jpki.clock import utc_now
from jpki.constants import CertKind
from jpki.errors import ASN1_PARSE_ERRORS
from jpki.signer import DIGEST_SIZES, CertificateChecker, CheckedCertificate, DigestSigner
from jpki.validation.der import DerError, read_header
from jpki.validation.errors import LIBRARY_PARSE_ERRORS, ValidationError
from jpki.validation.validator import as_utc

# Imported for its side effect too: it registers signing_certificate_v2 with cms.
_ = tsp.SigningCertificateV2

MAX_SIGNATURE_BYTES = 1024 * 1024

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


class CmsError(Exception):
    """Base of every refusal of a CMS signature; `code` is stable."""

    code = "CMS_INVALID"


class CmsMalformedError(CmsError):
    """Not a detached SignedData with one signer this module understands."""

    code = "CMS_MALFORMED"


class CmsDigestMismatchError(CmsError):
    """The content does not match the signed message digest: it was changed."""

    code = "CMS_DIGEST_MISMATCH"


class CmsSignatureInvalidError(CmsError):
    """The signature over the signed attributes does not verify with the signer's key."""

    code = "CMS_SIGNATURE_INVALID"


class CmsSignerCertificateMismatchError(CmsError):
    """signingCertificateV2 is missing or names another certificate than the one the
    signature verifies with (certificate substitution)."""

    code = "CMS_SIGNER_CERT_MISMATCH"


class CmsCertificateRejectedError(CmsError):
    """The signer certificate failed path validation. `code` is the validator's own
    (CERT_REVOKED, CERT_EXPIRED, CERT_UNTRUSTED, REVOCATION_UNKNOWN, ...) and `cause`
    the validator's error with its structured fields."""

    def __init__(self, message: str, code: str, cause: BaseException) -> None:
        super().__init__(message)
        self.code = code
        self.cause = cause


@dataclass(frozen=True)
class CmsVerification:
    serial: int
    issuer_key_id: bytes | None
    subject: str
    hash_name: str
    signing_time: datetime | None
    validated_at: datetime
    certificate: bytes
    basic_four: BasicFourFromCert | None
    validation: CheckedCertificate


def sign_cms(
    content: bytes,
    signer: DigestSigner,
    *,
    hash_name: str = "sha256",
    signing_time: datetime | None = None,
    extra_certificates: tuple[bytes, ...] = (),
) -> bytes:
    """A detached CAdES-BES signature of `content` (DER ContentInfo).

    Requires the signer's PIN to be verified already (one card signature is made).
    `extra_certificates` (e.g. the sign CA) are included after the signer's."""
    if hash_name not in DIGEST_SIZES:
        raise ValueError(f"unsupported hash algorithm {hash_name!r}")
    cert_der = signer.certificate
    cert = x509.Certificate.load(cert_der)
    when = (signing_time or utc_now()).astimezone(UTC).replace(microsecond=0)
    signed_attrs = cms.CMSAttributes(
        [
            _attr("content_type", cms.ContentType("data")),
            _attr("message_digest", core.OctetString(hashlib.new(hash_name, content).digest())),
            _attr("signing_time", cms.Time({"utc_time": when})),
            _attr("signing_certificate_v2", _signing_certificate_v2(cert, cert_der)),
        ]
    )
    # The signature covers the DER of the attributes as a SET OF (tag 0x31); asn1crypto
    # sorts SET OF members, which DER requires.
    signed_attrs_der = signed_attrs.dump(force=True)
    signature = signer.sign_digest(hashlib.new(hash_name, signed_attrs_der).digest(), hash_name)
    digest_algorithm = algos.DigestAlgorithm({"algorithm": hash_name})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": cms.CMSAttributes.load(signed_attrs_der),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signature": signature,
        }
    )
    certificates = [cert] + [x509.Certificate.load(der) for der in extra_certificates]
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cms.CertificateChoices({"certificate": c}) for c in certificates],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def _attr(kind: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


def _signing_certificate_v2(cert: x509.Certificate, cert_der: bytes) -> tsp.SigningCertificateV2:
    # hashAlgorithm is left out: SHA-256 is its DEFAULT, and DER omits defaults.
    ess_cert_id = tsp.ESSCertIDv2(
        {
            "cert_hash": hashlib.sha256(cert_der).digest(),
            "issuer_serial": {
                "issuer": [x509.GeneralName({"directory_name": cert.issuer})],
                "serial_number": cert.serial_number,
            },
        }
    )
    return tsp.SigningCertificateV2({"certs": [ess_cert_id]})


def verify_cms(
    content: bytes,
    signature_der: bytes,
    checker: CertificateChecker,
    *,
    at: datetime | None = None,
) -> CmsVerification:
    """Check a detached signature over `content`: integrity (message digest), the
    signature over the signed attributes, signingCertificateV2, and the signer
    certificate's chain to the sign CA with revocation (through `checker`, at `at`,
    default now). The claimed signing time is reported, not trusted: a BES signature has
    no time-stamp, so validity is judged at `at`."""
    when = as_utc(at)
    try:
        return _verify_cms(content, signature_der, checker, when)
    except CmsError:
        raise
    except (*ASN1_PARSE_ERRORS, *LIBRARY_PARSE_ERRORS) as exc:
        # asn1crypto parses lazily and, on crafted input, fails in `.native` and friends
        # with whatever the decoder met (AttributeError, IndexError, ...): all of that
        # is a malformed signature, never a crash of the caller.
        raise CmsMalformedError(f"not a usable CMS structure: {type(exc).__name__}") from exc


def _verify_cms(
    content: bytes, signature_der: bytes, checker: CertificateChecker, when: datetime
) -> CmsVerification:
    signer_info, certificates = _parse_signed_data(signature_der)
    hash_name = _hash_name(signer_info)
    attrs = _signed_attributes(signer_info)

    if attrs.get("content_type") != "data":
        raise CmsMalformedError("content-type attribute missing or not id-data")
    message_digest = attrs.get("message_digest")
    if not isinstance(message_digest, bytes):
        raise CmsMalformedError("message-digest attribute missing")
    if not hmac.compare_digest(message_digest, hashlib.new(hash_name, content).digest()):
        raise CmsDigestMismatchError("the content does not match the signed message digest")

    cert = _signer_certificate(signer_info, certificates)
    cert_der = bytes(cert.dump())
    _verify_signature(cert_der, signer_info, hash_name)
    _check_signing_certificate_v2(attrs.get("signing_certificate_v2"), cert, cert_der)
    signing_time = attrs.get("signing_time")

    try:
        checked = checker.validate(cert_der, CertKind.SIGN, at=when)
    except ValidationError as exc:
        raise CmsCertificateRejectedError(
            f"signer certificate refused: {exc}", exc.code, exc
        ) from exc
    basic_four = basic_four_if_present(cert_der)
    return CmsVerification(
        serial=checked.serial,
        issuer_key_id=checked.issuer_key_id,
        subject=cert.subject.human_friendly,
        hash_name=hash_name,
        signing_time=signing_time if isinstance(signing_time, datetime) else None,
        validated_at=when,
        certificate=cert_der,
        basic_four=basic_four,
        validation=checked,
    )


def _parse_signed_data(der: bytes) -> tuple[cms.SignerInfo, list[x509.Certificate]]:
    if len(der) > MAX_SIGNATURE_BYTES:
        raise CmsMalformedError(f"signature larger than {MAX_SIGNATURE_BYTES} bytes")
    try:
        # DER shape first: asn1crypto accepts wrong tags in the unsigned envelope (a
        # SEQUENCE for the SET of digest algorithms, a version swallowing the next
        # field). Re-encoding with dump(force=True) would catch it but costs ~0.1 s.
        _check_der_tree(der)
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsMalformedError("not a CMS SignedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content"].native is not None:
            raise CmsMalformedError("expected a detached signature; this one embeds content")
        # RFC 5652 5.3: the signed content-type attribute must equal eContentType; the
        # attribute is checked to be id-data below, so eContentType must be too.
        if encap["content_type"].native != "data":
            raise CmsMalformedError("eContentType is not id-data")
        if signed["version"].native not in ("v1", "v3"):
            raise CmsMalformedError(f"unsupported SignedData version {signed['version'].native}")
        _check_tags(signed, _SIGNED_DATA_TAGS)
        signer_infos = list(signed["signer_infos"])
        certificates = [
            choice.chosen for choice in signed["certificates"] or [] if choice.name == "certificate"
        ]
        for c in certificates:
            _ = c.native  # parse fully now so later steps meet no lazy parse errors
        for si in signer_infos:
            _ = si.native
    except CmsError:
        raise
    except ASN1_PARSE_ERRORS as exc:
        raise CmsMalformedError(f"not a DER CMS structure: {exc}") from exc
    if len(signer_infos) != 1:
        raise CmsMalformedError(f"expected exactly one signer, found {len(signer_infos)}")
    signer = signer_infos[0]
    _check_tags(signer, _SIGNER_INFO_TAGS)
    expected = "v1" if signer["sid"].name == "issuer_and_serial_number" else "v3"
    if signer["version"].native != expected:  # RFC 5652 5.3
        raise CmsMalformedError("SignerInfo version does not match its signer identifier")
    for algorithm in (*signed["digest_algorithms"], signer["digest_algorithm"]):
        _check_no_parameters(algorithm, "digest algorithm")
    _check_no_parameters(signer["signature_algorithm"], "signature algorithm")
    # Compared as encoded: the unsigned envelope must name exactly what the signer used.
    listed = [a.dump() for a in signed["digest_algorithms"]]
    if signer["digest_algorithm"].dump() not in listed:
        raise CmsMalformedError("the signer's digest algorithm is not in digestAlgorithms")
    return signer, certificates


# The first byte each envelope field must start with (universal or context tag).
_SIGNED_DATA_TAGS: dict[str, tuple[int, ...]] = {
    "version": (0x02,),
    "digest_algorithms": (0x31,),
    "encap_content_info": (0x30,),
    "certificates": (0xA0,),
    "crls": (0xA1,),
    "signer_infos": (0x31,),
}
_SIGNER_INFO_TAGS: dict[str, tuple[int, ...]] = {
    "version": (0x02,),
    "sid": (0x30, 0x80),
    "digest_algorithm": (0x30,),
    "signed_attrs": (0xA0,),
    "signature_algorithm": (0x30,),
    "signature": (0x04,),
    "unsigned_attrs": (0xA1,),
}
_MAX_DEPTH = 32


def _check_no_parameters(algorithm: core.Sequence, what: str) -> None:
    """SHA-2 and RSA PKCS#1 v1.5 take no parameters: absent, or exactly NULL."""
    parameters = algorithm["parameters"]
    if not isinstance(parameters, core.Void) and parameters.dump() != b"\x05\x00":
        raise CmsMalformedError(f"{what} parameters must be absent or NULL")


def _check_tags(value: core.Sequence, expected: dict[str, tuple[int, ...]]) -> None:
    for name, tags in expected.items():
        field = value[name]
        if isinstance(field, core.Void):
            continue  # an absent OPTIONAL field
        encoded = field.dump()  # the bytes as received, no re-encoding
        if not encoded or encoded[0] not in tags:
            raise CmsMalformedError(f"{name} has the wrong tag")


def _check_der_tree(der: bytes) -> None:
    """Definite, minimal lengths everywhere; every constructed value exactly filled by
    its children; nothing after the top-level value. Linear in the input."""

    def walk(pos: int, end: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise CmsMalformedError("the signature nests too deeply")
        while pos < end:
            try:
                tag, start, stop = read_header(der, pos, end)
            except DerError as exc:
                raise CmsMalformedError(f"not DER: {exc}") from exc
            if tag & 0x20:
                walk(start, stop, depth + 1)
            pos = stop

    try:
        _, _, stop = read_header(der, 0, len(der))
    except DerError as exc:
        raise CmsMalformedError(f"not DER: {exc}") from exc
    if stop != len(der):
        raise CmsMalformedError("bytes after the signature")
    walk(0, len(der), 0)


def _hash_name(signer_info: cms.SignerInfo) -> str:
    name = signer_info["digest_algorithm"]["algorithm"].native
    if name not in _HASHES:
        raise CmsMalformedError(f"unsupported digest algorithm {name}")
    sig_alg = signer_info["signature_algorithm"]["algorithm"].native
    if sig_alg not in ("rsassa_pkcs1v15", f"{name}_rsa"):
        raise CmsMalformedError(f"unsupported signature algorithm {sig_alg}")
    return str(name)


def _signed_attributes(signer_info: cms.SignerInfo) -> dict[str, object]:
    attrs = signer_info["signed_attrs"]
    if not isinstance(attrs, cms.CMSAttributes) or len(attrs) == 0:
        raise CmsMalformedError("signed attributes missing")
    found: dict[str, object] = {}
    for attr in attrs:
        kind = attr["type"].native
        values = attr["values"]
        if kind in found or len(values) != 1:
            raise CmsMalformedError(f"attribute {kind} must appear once with one value")
        found[kind] = values[0] if kind == "signing_certificate_v2" else values[0].native
    return found


def _signer_certificate(
    signer_info: cms.SignerInfo, certificates: list[x509.Certificate]
) -> x509.Certificate:
    sid = signer_info["sid"]
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                # The DER of the issuer exactly, not RFC 5280 name matching: the
                # identifier is unsigned, so it must be the certificate's very bytes.
                cert.issuer.dump() == wanted["issuer"].dump()
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    raise CmsMalformedError("the signer's certificate is not in the signature")


def _verify_signature(cert_der: bytes, signer_info: cms.SignerInfo, hash_name: str) -> None:
    try:
        key = cx509.load_der_x509_certificate(cert_der).public_key()
    except LIBRARY_PARSE_ERRORS as exc:
        raise CmsMalformedError(f"signer certificate does not parse: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise CmsMalformedError("signer certificate does not hold an RSA key")
    # Verify over the attributes exactly as received, with the [0] IMPLICIT tag put back
    # to SET OF (0x31): re-encoding them could "fix" a non-DER encoding the signer used.
    attrs = signer_info["signed_attrs"]
    signed_der = _der_set(attrs.contents)
    digest = hashlib.new(hash_name, signed_der).digest()
    try:
        key.verify(
            signer_info["signature"].native,
            digest,
            padding.PKCS1v15(),
            Prehashed(_HASHES[hash_name]),
        )
    except InvalidSignature as exc:
        raise CmsSignatureInvalidError(
            "the signature does not verify with the signer's key"
        ) from exc


def _der_set(contents: bytes) -> bytes:
    length = len(contents)
    if length < 0x80:
        header = bytes([0x31, length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x31, 0x80 | len(size)]) + size
    return header + contents


def _check_signing_certificate_v2(value: object, cert: x509.Certificate, cert_der: bytes) -> None:
    if not isinstance(value, tsp.SigningCertificateV2):
        raise CmsSignerCertificateMismatchError("signingCertificateV2 attribute missing")
    certs = value["certs"]
    if len(certs) == 0:
        raise CmsSignerCertificateMismatchError("signingCertificateV2 names no certificate")
    first = certs[0]  # RFC 5035: the first ESSCertIDv2 is the signer's
    hash_name = first["hash_algorithm"]["algorithm"].native
    if hash_name not in _HASHES:
        raise CmsMalformedError(f"signingCertificateV2 uses unsupported hash {hash_name}")
    if not hmac.compare_digest(
        first["cert_hash"].native, hashlib.new(hash_name, cert_der).digest()
    ):
        raise CmsSignerCertificateMismatchError(
            "signingCertificateV2 hash does not match the signer certificate"
        )
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None:
        names = [n.chosen for n in issuer_serial["issuer"] if n.name == "directory_name"]
        if issuer_serial["serial_number"].native != cert.serial_number or cert.issuer not in names:
            raise CmsSignerCertificateMismatchError(
                "signingCertificateV2 issuer/serial does not match the signer certificate"
            )
