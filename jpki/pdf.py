"""PAdES signatures on PDF documents with the card's signature key, through pyHanko.

pyHanko builds the PDF signature dictionary and the CMS; the card only signs the digest
of the signed attributes (`CardPdfSigner.async_sign_raw`). Verification runs pyHanko's
own validator against the given trust roots. Revocation: pyHanko checks the CRLs/OCSP
responses handed to it (no network fetching); the result says whether it did
(`pyhanko_revocation_checked`). The caller may also pass the project's
CertificateChecker, whose verdict (chain, validity, revocation with hard fail) is then
required as well."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any, TypeVar

from asn1crypto import algos, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from jpki.basic_facts import BasicFourFromCert, basic_four_if_present
from jpki.constants import CertKind
from jpki.signer import DIGEST_SIZES, CertificateChecker, CheckedCertificate, DigestSigner
from jpki.validation.errors import ValidationError
from jpki.validation.validator import as_utc

MAX_PDF_BYTES = 64 * 1024 * 1024


class PdfSignatureError(Exception):
    """Base of PDF signing and verification errors; `code` is stable."""

    code = "PDF_INVALID"


class PdfMalformedError(PdfSignatureError):
    code = "PDF_MALFORMED"


class PdfNotSignedError(PdfSignatureError):
    code = "PDF_NOT_SIGNED"


class PdfSigningFailedError(PdfSignatureError):
    code = "PDF_SIGNING_FAILED"


class PdfCertificateRejectedError(PdfSignatureError):
    """The project's CertificateChecker refused the signer certificate; `code` is the
    validator's own (CERT_REVOKED, REVOCATION_UNKNOWN, ...)."""

    def __init__(self, message: str, code: str, cause: BaseException) -> None:
        super().__init__(message)
        self.code = code
        self.cause = cause


class CardPdfSigner(signers.Signer):
    """A pyHanko Signer whose private-key operation is the card's (any DigestSigner).

    Requires the sign PIN to be verified before signing. pyHanko first asks for a
    "dry run" signature to size the placeholder; that is answered with zeros of the
    key's length and never reaches the card, so one document costs one card signature."""

    def __init__(self, signer: DigestSigner, *, ca_certificates: Iterable[bytes] = ()) -> None:
        cert = x509.Certificate.load(signer.certificate)
        key = cx509.load_der_x509_certificate(signer.certificate).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise PdfSigningFailedError("the signer certificate does not hold an RSA key")
        self._digest_signer = signer
        self._signature_size = (key.key_size + 7) // 8
        others = [x509.Certificate.load(der) for der in ca_certificates]
        super().__init__(
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [cert, *others]
            ),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            embed_roots=True,
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self._signature_size)
        name = digest_algorithm.lower()
        if name not in DIGEST_SIZES:
            raise PdfSigningFailedError(f"unsupported digest algorithm {digest_algorithm}")
        digest = hashlib.new(name, data).digest()
        return self._digest_signer.sign_digest(digest, name)


@dataclass(frozen=True)
class PdfVerification:
    field_name: str
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_document: bool
    bottom_line: bool
    revoked: bool
    signer_serial: int
    signer_subject: str
    signing_time: datetime | None
    pyhanko_revocation_checked: bool
    pyhanko_summary: str
    basic_four: BasicFourFromCert | None
    validation: CheckedCertificate | None  # from the project's checker, when given

    @property
    def ok(self) -> bool:
        return self.bottom_line and self.covers_whole_document


async def async_sign_pdf(
    pdf: bytes,
    signer: DigestSigner,
    *,
    field_name: str = "Signature1",
    reason: str | None = None,
    location: str | None = None,
    ca_certificates: Iterable[bytes] = (),
) -> bytes:
    """`pdf` with a PAdES-B-B signature (one card signature) appended incrementally."""
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfMalformedError(f"PDF larger than {MAX_PDF_BYTES} bytes")
    card_signer = CardPdfSigner(signer, ca_certificates=ca_certificates)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out = await signers.PdfSigner(meta, signer=card_signer).async_sign_pdf(writer)
    except (PdfError, SigningError) as exc:
        raise PdfSigningFailedError(f"cannot sign this PDF: {exc}") from exc
    return bytes(out.getvalue())


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code. asyncio.run refuses to start
    inside a thread whose loop is running (a web framework, a greenlet-driven test
    tool), so in that case a helper thread runs it on its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def sign_pdf(
    pdf: bytes,
    signer: DigestSigner,
    *,
    field_name: str = "Signature1",
    reason: str | None = None,
    location: str | None = None,
    ca_certificates: Iterable[bytes] = (),
) -> bytes:
    """Synchronous async_sign_pdf (safe to call while another event loop runs in this
    thread: the work then runs on a private loop in a helper thread)."""
    return _run(
        async_sign_pdf(
            pdf,
            signer,
            field_name=field_name,
            reason=reason,
            location=location,
            ca_certificates=ca_certificates,
        )
    )


async def async_verify_pdf(
    pdf: bytes,
    trust_roots: Iterable[bytes],
    *,
    crls: Iterable[bytes] = (),
    ocsps: Iterable[bytes] = (),
    checker: CertificateChecker | None = None,
    at: datetime | None = None,
) -> list[PdfVerification]:
    """Validate every signature in `pdf` with pyHanko against `trust_roots` (DER).

    With CRLs or OCSP responses given, pyHanko checks revocation in hard-fail mode;
    without, it does not (reported per signature). With `checker`, the signer
    certificate must also pass the project's validation as a SIGN certificate."""
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfMalformedError(f"PDF larger than {MAX_PDF_BYTES} bytes")
    when = as_utc(at)
    crl_list, ocsp_list = list(crls), list(ocsps)
    revocation_checked = bool(crl_list or ocsp_list)
    context = ValidationContext(
        trust_roots=[x509.Certificate.load(der) for der in trust_roots],
        crls=crl_list,
        ocsps=ocsp_list,
        allow_fetching=False,
        revocation_mode="hard-fail" if revocation_checked else "soft-fail",
        moment=when,
    )
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError) as exc:
        raise PdfMalformedError(f"not a readable PDF: {exc}") from exc
    if not embedded:
        raise PdfNotSignedError("the PDF has no signature")
    results = []
    for sig in embedded:
        try:
            status = await async_validate_pdf_signature(sig, context)
        except (SignatureValidationError, PdfError, ValueError) as exc:
            raise PdfMalformedError(f"signature {sig.field_name} unreadable: {exc}") from exc
        cert_der = bytes(status.signing_cert.dump())
        checked = None
        if checker is not None:
            try:
                checked = checker.validate(cert_der, CertKind.SIGN, at=when)
            except ValidationError as exc:
                raise PdfCertificateRejectedError(
                    f"signer certificate refused: {exc}", exc.code, exc
                ) from exc
        basic_four = basic_four_if_present(cert_der)
        results.append(
            PdfVerification(
                field_name=str(sig.field_name),
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                covers_whole_document=status.coverage is not None
                and status.coverage.name == "ENTIRE_FILE",
                bottom_line=bool(status.bottom_line),
                revoked=bool(status.revoked),
                signer_serial=int(status.signing_cert.serial_number),
                signer_subject=str(status.signing_cert.subject.human_friendly),
                signing_time=status.signer_reported_dt,
                pyhanko_revocation_checked=revocation_checked,
                pyhanko_summary=str(status.summary()),
                basic_four=basic_four,
                validation=checked,
            )
        )
    return results


def verify_pdf(
    pdf: bytes,
    trust_roots: Iterable[bytes],
    *,
    crls: Iterable[bytes] = (),
    ocsps: Iterable[bytes] = (),
    checker: CertificateChecker | None = None,
    at: datetime | None = None,
) -> list[PdfVerification]:
    """Synchronous async_verify_pdf (see sign_pdf about event loops)."""
    return _run(async_verify_pdf(pdf, trust_roots, crls=crls, ocsps=ocsps, checker=checker, at=at))
