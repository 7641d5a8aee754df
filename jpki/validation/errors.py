"""Errors of certificate validation. Each says why a certificate is not accepted, with the
fields a caller needs to act, and a stable `code` the service and CLI map to statuses.

"Revoked", "expired", "untrusted" and "could not decide" are different types: a caller
must never mistake "could not decide" for "good".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar


class ValidationError(Exception):
    """Base of every validation failure. `fields()` gives the structured details."""

    code: ClassVar[str] = "VALIDATION_FAILED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def fields(self) -> dict[str, Any]:
        """Structured details (JSON-friendly: datetimes stay datetimes, bytes as hex)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields()}


class InvalidInstantError(ValidationError, ValueError):
    """The instant asked for cannot be represented in UTC (e.g. 0001-01-01T00:00+14:00,
    which lies before year 1 once converted)."""

    code: ClassVar[str] = "INVALID_INSTANT"


class MalformedCertificateError(ValidationError):
    """The certificate bytes do not parse as an X.509 certificate."""

    code: ClassVar[str] = "CERT_MALFORMED"


class UntrustedCertificateError(ValidationError):
    """No chain to a configured anchor: unknown issuer, bad signature, or the certificate
    is not fit for the kind asked (key usage, extended key usage, policy)."""

    code: ClassVar[str] = "CERT_UNTRUSTED"

    def __init__(
        self, message: str, *, reason: str, subject: str | None = None, issuer: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.subject = subject
        self.issuer = issuer

    def fields(self) -> dict[str, Any]:
        return {"reason": self.reason, "subject": self.subject, "issuer": self.issuer}


class CertificateExpiredError(ValidationError):
    """The instant of validation is outside the certificate's validity period."""

    code: ClassVar[str] = "CERT_EXPIRED"

    def __init__(self, *, not_before: datetime, not_after: datetime, at: datetime) -> None:
        when = "not yet valid" if at < not_before else "expired"
        super().__init__(
            f"certificate {when} at {at.isoformat()} (valid {not_before.isoformat()} "
            f"to {not_after.isoformat()})"
        )
        self.not_before = not_before
        self.not_after = not_after
        self.at = at

    def fields(self) -> dict[str, Any]:
        return {"not_before": self.not_before, "not_after": self.not_after, "at": self.at}


class CertificateRevokedError(ValidationError):
    """A revocation source that was verified says the certificate is revoked."""

    code: ClassVar[str] = "CERT_REVOKED"

    def __init__(
        self, *, serial: int, revoked_at: datetime | None, reason: str | None, source: str
    ) -> None:
        super().__init__(
            f"certificate serial {serial:#x} revoked"
            + (f" at {revoked_at.isoformat()}" if revoked_at else "")
            + (f" ({reason})" if reason else "")
            + f" according to {source}"
        )
        self.serial = serial
        self.revoked_at = revoked_at
        self.reason = reason
        self.source = source

    def fields(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "revoked_at": self.revoked_at,
            "reason": self.reason,
            "source": self.source,
        }


class RevocationUnknownError(ValidationError):
    """No revocation source gave a verified, fresh answer: cannot decide. Never "good".
    `reasons` holds (source, why) for every source tried, in order."""

    code: ClassVar[str] = "REVOCATION_UNKNOWN"

    def __init__(self, *, serial: int, reasons: Sequence[tuple[str, str]]) -> None:
        detail = "; ".join(f"{source}: {why}" for source, why in reasons) or "no source"
        super().__init__(f"revocation status of serial {serial:#x} unknown ({detail})")
        self.serial = serial
        self.reasons: tuple[tuple[str, str], ...] = tuple(reasons)

    def fields(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "reasons": [{"source": s, "reason": r} for s, r in self.reasons],
        }


class RevocationSourceError(ValidationError):
    """One revocation source could not give a usable answer. The checker collects these
    into a RevocationUnknownError; `reason_code` names the failure precisely."""

    code: ClassVar[str] = "REVOCATION_SOURCE_FAILED"
    source: ClassVar[str] = "revocation"

    def __init__(self, message: str, *, reason_code: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code

    def fields(self) -> dict[str, Any]:
        return {"source": self.source, "reason_code": self.reason_code}


class FetchError(RevocationSourceError):
    """Downloading a CRL or posting an OCSP request failed (network, timeout, HTTP
    status, size cap)."""

    code: ClassVar[str] = "FETCH_FAILED"
    source: ClassVar[str] = "fetch"


class CrlError(RevocationSourceError):
    """A CRL is unusable: malformed, bad signature, wrong issuer or partition, CRLNumber
    lower than the one held, not fresh, too large, or none held for the partition.

    reason_code is one of: CRL_MALFORMED, CRL_SIGNATURE, CRL_ISSUER, CRL_PARTITION,
    CRL_NUMBER_REGRESSION, CRL_NOT_YET_VALID, CRL_EXPIRED, CRL_TOO_LARGE,
    CRL_UNSUPPORTED, CRL_NOT_HELD, CRL_NO_DISTRIBUTION_POINT."""

    code: ClassVar[str] = "CRL_UNUSABLE"
    source: ClassVar[str] = "crl"


class OcspError(RevocationSourceError):
    """An OCSP answer is unusable or says "unknown".

    reason_code is one of: OCSP_MALFORMED, OCSP_STATUS (responder error status),
    OCSP_SIGNATURE, OCSP_RESPONDER_NOT_AUTHORISED, OCSP_CERTID_MISMATCH,
    OCSP_NONCE_MISSING, OCSP_NONCE_MISMATCH, OCSP_UNKNOWN, OCSP_STALE,
    OCSP_NOT_YET_VALID, OCSP_NO_URL."""

    code: ClassVar[str] = "OCSP_UNUSABLE"
    source: ClassVar[str] = "ocsp"


def _library_parse_errors() -> tuple[type[Exception], ...]:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm

    return (
        ValueError,
        TypeError,
        UnsupportedAlgorithm,
        x509.InvalidVersion,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    )


# What cryptography raises (often lazily, on first access) for bytes it cannot parse.
# Callers turn these into the typed errors above; the list is in one place so no
# parser is missed (fuzzing found DuplicateExtension and InvalidVersion escaping).
LIBRARY_PARSE_ERRORS = _library_parse_errors()
