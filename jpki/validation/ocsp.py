"""OCSP client: one request per certificate with a fresh nonce, and a response accepted
only when fully verified (RFC 6960): successful status, signed by the issuing CA
generation itself or by a responder certificate that generation issued for OCSP
signing, the CertID of the certificate asked about, the nonce echoed, and fresh.
"unknown" is not an answer: the caller cannot decide."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from jpki.clock import as_utc
from jpki.validation import der
from jpki.validation.certinfo import revocation_pointers
from jpki.validation.errors import OcspError
from jpki.validation.fetchers import HttpOcspTransport, OcspTransport
from jpki.validation.signatures import signature_valid
from jpki.validation.trust import TrustAnchor, verify_issued_by

# CertID hash algorithms accepted in answers (requests use SHA-1, as JPKI responders do).
_HASHES = frozenset({"sha1", "sha256", "sha384", "sha512"})


@dataclass(frozen=True)
class OcspAnswer:
    status: Literal["good", "revoked"]
    serial: int
    this_update: datetime
    next_update: datetime | None
    produced_at: datetime
    revoked_at: datetime | None
    reason: str | None
    responder: str  # "ca" or the delegated responder's subject
    cached: bool = False


_utc = as_utc


def public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value, which OCSP key hashes are taken over."""
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    start, end = der.expect(spki, 0, len(spki), 0x30)
    _, alg_end = der.expect(spki, start, end, 0x30)
    bits_start, bits_end = der.expect(spki, alg_end, end, 0x03)
    return spki[bits_start + 1 : bits_end]


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


class OcspClient:
    """Thread-safe. Answers "good"/"revoked" are cached per (CA key, serial) until their
    nextUpdate (and no longer than `max_age` after thisUpdate)."""

    def __init__(
        self,
        transport: OcspTransport | None = None,
        *,
        timeout: float = 5.0,
        require_nonce: bool = True,
        max_age: timedelta = timedelta(hours=1),
        clock_skew: timedelta = timedelta(minutes=5),
        cache: bool = True,
        nonce_source: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.transport = transport or HttpOcspTransport()
        self.timeout = timeout
        self.require_nonce = require_nonce
        self.max_age = max_age
        self.clock_skew = clock_skew
        self._cache: dict[tuple[bytes, int], OcspAnswer] | None = {} if cache else None
        self._nonce = nonce_source
        self._lock = threading.Lock()

    def request(self, cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bytes, bytes]:
        """(DER request, nonce)."""
        nonce = self._nonce(32)
        req = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303 - RFC 6960 CertID
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        return req.public_bytes(Encoding.DER), nonce

    def check(
        self,
        cert: x509.Certificate,
        issuer: TrustAnchor,
        *,
        url: str | None = None,
        at: datetime | None = None,
    ) -> OcspAnswer:
        """Ask the responder about `cert` (issued by the generation `issuer`). Returns a
        verified "good" or "revoked" answer; raises OcspError or FetchError otherwise."""
        now = _utc(at)
        key = (issuer.key_id, cert.serial_number)
        cached = self._cached(key, now)
        if cached is not None:
            return cached
        if url is None:
            urls = revocation_pointers(cert).ocsp_urls
            if not urls:
                raise OcspError("certificate names no OCSP responder", reason_code="OCSP_NO_URL")
            url = urls[0]
        request_der, nonce = self.request(cert, issuer.certificate)
        response_der = self.transport.post(url, request_der, self.timeout)
        answer = self.verify(response_der, cert, issuer, nonce=nonce, at=now)
        if self._cache is not None and answer.next_update is not None:
            with self._lock:
                self._cache[key] = answer
        return answer

    def _cached(self, key: tuple[bytes, int], now: datetime) -> OcspAnswer | None:
        if self._cache is None:
            return None
        with self._lock:
            answer = self._cache.get(key)
            if answer is None:
                return None
            try:
                self._check_fresh(answer.this_update, answer.next_update, now)
            except OcspError:
                del self._cache[key]
                return None
        return OcspAnswer(**{**answer.__dict__, "cached": True})

    def verify(
        self,
        response_der: bytes,
        cert: x509.Certificate,
        issuer: TrustAnchor,
        *,
        nonce: bytes | None,
        at: datetime | None = None,
    ) -> OcspAnswer:
        """Verify a DER OCSP response about `cert`. `nonce` is what was sent (None: none
        sent, acceptable only when nonces are not required)."""
        now = _utc(at)
        try:
            response = ocsp.load_der_ocsp_response(response_der)
            status = response.response_status
            basic = der.basic_ocsp_response(bytes(response_der))
            if basic is not None:
                der.check_signed_shape(basic)
        except (
            ValueError,
            UnsupportedAlgorithm,
            x509.InvalidVersion,
        ) as exc:  # DerError is a ValueError
            raise OcspError(
                f"OCSP response does not parse: {exc}", reason_code="OCSP_MALFORMED"
            ) from exc
        if status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise OcspError(f"responder answered {status.name}", reason_code="OCSP_STATUS")
        try:
            single = self._matching(response, cert, issuer.certificate)
            responder = self._verify_signer(response, issuer.certificate, now)
            extensions = response.extensions
            cert_status = single.certificate_status
            this_update, next_update = single.this_update_utc, single.next_update_utc
            produced_at = response.produced_at_utc
            revoked_at = single.revocation_time_utc
            reason = single.revocation_reason
        except (
            ValueError,
            UnsupportedAlgorithm,
            x509.InvalidVersion,
        ) as exc:  # parsed lazily by cryptography
            raise OcspError(
                f"OCSP response malformed: {exc}", reason_code="OCSP_MALFORMED"
            ) from exc
        self._check_nonce(extensions, nonce)
        if cert_status is ocsp.OCSPCertStatus.UNKNOWN:
            raise OcspError("responder does not know the certificate", reason_code="OCSP_UNKNOWN")
        self._check_fresh(this_update, next_update, now)
        if cert_status is ocsp.OCSPCertStatus.REVOKED:
            return OcspAnswer(
                "revoked",
                cert.serial_number,
                this_update,
                next_update,
                produced_at,
                revoked_at,
                reason.value if reason is not None else None,
                responder,
            )
        return OcspAnswer(
            "good", cert.serial_number, this_update, next_update, produced_at, None, None, responder
        )

    @staticmethod
    def _matching(
        response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
    ) -> ocsp.OCSPSingleResponse:
        name_der = issuer.subject.public_bytes()
        key_bits = public_key_bits(issuer)
        for single in response.responses:
            algorithm = single.hash_algorithm.name
            if algorithm not in _HASHES:
                continue
            if (
                single.serial_number == cert.serial_number
                and single.issuer_name_hash == _digest(algorithm, name_der)
                and single.issuer_key_hash == _digest(algorithm, key_bits)
            ):
                return single
        raise OcspError(
            "no answer in the response is about this certificate and CA key",
            reason_code="OCSP_CERTID_MISMATCH",
        )

    def _verify_signer(
        self, response: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime
    ) -> str:
        """Who signed: "ca" or a delegated responder's subject. Raises OcspError."""
        if self._names_signer(response, issuer):
            if not _signed_by(response, issuer):
                raise OcspError("OCSP signature does not verify", reason_code="OCSP_SIGNATURE")
            return "ca"
        for candidate in response.certificates:
            if not self._names_signer(response, candidate):
                continue
            try:
                der.check_signed_shape(candidate.public_bytes(Encoding.DER))
            except der.DerError as exc:
                raise OcspError(
                    f"responder certificate malformed: {exc}", reason_code="OCSP_MALFORMED"
                ) from exc
            if not verify_issued_by(candidate, issuer):
                raise OcspError(
                    "responder certificate not issued by the certificate's CA generation",
                    reason_code="OCSP_RESPONDER_NOT_AUTHORISED",
                )
            try:
                eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                eku = None
            if eku is None or ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                raise OcspError(
                    "responder certificate lacks id-kp-OCSPSigning",
                    reason_code="OCSP_RESPONDER_NOT_AUTHORISED",
                )
            if not (
                candidate.not_valid_before_utc - self.clock_skew
                <= now
                <= candidate.not_valid_after_utc
            ):
                raise OcspError(
                    "responder certificate not valid now",
                    reason_code="OCSP_RESPONDER_NOT_AUTHORISED",
                )
            if not _signed_by(response, candidate):
                raise OcspError("OCSP signature does not verify", reason_code="OCSP_SIGNATURE")
            return candidate.subject.rfc4514_string()
        raise OcspError(
            "response signed by neither the CA nor a responder it authorised",
            reason_code="OCSP_RESPONDER_NOT_AUTHORISED",
        )

    @staticmethod
    def _names_signer(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
        if response.responder_key_hash is not None:
            return response.responder_key_hash == _digest("sha1", public_key_bits(cert))
        return response.responder_name == cert.subject

    def _check_nonce(self, extensions: x509.Extensions, sent: bytes | None) -> None:
        try:
            echoed: bytes | None = extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if sent is None:
            if self.require_nonce:
                raise OcspError(
                    "no nonce was sent but one is required", reason_code="OCSP_NONCE_MISSING"
                )
            return
        if echoed is None:
            if self.require_nonce:
                raise OcspError(
                    "responder did not echo the nonce", reason_code="OCSP_NONCE_MISSING"
                )
            return
        if not secrets.compare_digest(echoed, sent):
            raise OcspError(
                "responder echoed a different nonce (replay?)", reason_code="OCSP_NONCE_MISMATCH"
            )

    def _check_fresh(
        self, this_update: datetime, next_update: datetime | None, now: datetime
    ) -> None:
        if this_update > now + self.clock_skew:
            raise OcspError(
                f"OCSP thisUpdate {this_update.isoformat()} is in the future",
                reason_code="OCSP_NOT_YET_VALID",
            )
        if next_update is not None and now > next_update + self.clock_skew:
            raise OcspError(
                f"OCSP answer expired at {next_update.isoformat()}", reason_code="OCSP_STALE"
            )
        if now - this_update > self.max_age:
            raise OcspError(
                f"OCSP answer from {this_update.isoformat()} is older than {self.max_age}",
                reason_code="OCSP_STALE",
            )


def _signed_by(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    algorithm = response.signature_hash_algorithm
    parameters: object
    if isinstance(key, rsa.RSAPublicKey):
        parameters = padding.PKCS1v15()
    elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
        parameters = ec.ECDSA(algorithm)
    else:
        parameters = None
    return signature_valid(
        key, response.signature, response.tbs_response_bytes, algorithm, parameters
    )
