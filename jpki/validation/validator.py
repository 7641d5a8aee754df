"""Path validation for the single-tier JPKI: one end-entity certificate directly under
one trust anchor, at one instant, fit for one kind, and not revoked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.constants import CertKind
from jpki.validation.certinfo import check_fit_for_kind, load_certificate
from jpki.validation.errors import (
    CertificateExpiredError,
    RevocationUnknownError,
    UntrustedCertificateError,
)
from jpki.validation.policy import RevocationPolicy
from jpki.validation.result import RevocationResult, ValidationResult
from jpki.validation.trust import TrustAnchor, TrustStore


class RevocationCheck(Protocol):
    """What the validator needs from a revocation checker: a verified "good" result, or
    CertificateRevokedError, or RevocationUnknownError (cannot decide)."""

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult: ...


def as_utc(at: datetime | None) -> datetime:
    """`at` as an aware UTC datetime; None means now; a naive datetime is taken as UTC."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


class CertificateValidator:
    def __init__(
        self,
        trust: TrustStore,
        policy: RevocationPolicy | None = None,
        revocation: RevocationCheck | None = None,
    ) -> None:
        self.trust = trust
        self.policy = policy or RevocationPolicy()
        self.revocation = revocation

    def validate(
        self, cert_der: bytes, kind: CertKind | str, *, at: datetime | None = None
    ) -> ValidationResult:
        """Validate `cert_der` as a `kind` certificate at instant `at` (default now, UTC).

        Raises MalformedCertificateError, CertificateExpiredError,
        UntrustedCertificateError, CertificateRevokedError or RevocationUnknownError
        (hard-fail). Returns a result only when every check passed."""
        kind = CertKind(kind)
        when = as_utc(at)
        cert = load_certificate(cert_der)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        if not not_before <= when <= not_after:
            raise CertificateExpiredError(not_before=not_before, not_after=not_after, at=when)
        if kind in (CertKind.AUTH_CA, CertKind.SIGN_CA):
            anchor = self._anchor_itself(cert)
        else:
            anchor = self.trust.issuer_of(cert)
        if not anchor.not_before <= when <= anchor.not_after:
            raise UntrustedCertificateError(
                f"issuing CA generation {anchor.label} not valid at {when.isoformat()}",
                reason="anchor-expired",
                subject=cert.subject.rfc4514_string(),
                issuer=anchor.subject,
            )
        check_fit_for_kind(cert, kind)
        revocation = self._revocation(cert, anchor, kind, when)
        return ValidationResult(
            serial=cert.serial_number,
            issuer_key_id=anchor.key_id,
            subject=cert.subject.rfc4514_string(),
            kind=kind,
            not_before=not_before,
            not_after=not_after,
            validated_at=when,
            anchor=anchor.label,
            anchor_sha256=anchor.sha256,
            revocation=revocation,
        )

    def _anchor_itself(self, cert: x509.Certificate) -> TrustAnchor:
        """A CA certificate (as read from a card) is acceptable only if it IS an anchor."""
        der = cert.public_bytes(Encoding.DER)
        for anchor in self.trust.anchors:
            if anchor.der == der:
                return anchor
        raise UntrustedCertificateError(
            "CA certificate is not one of the configured trust anchors",
            reason="unknown-anchor",
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
        )

    def _revocation(
        self, cert: x509.Certificate, anchor: TrustAnchor, kind: CertKind, when: datetime
    ) -> RevocationResult:
        if kind in (CertKind.AUTH_CA, CertKind.SIGN_CA):
            return RevocationResult(
                status="not-checked",
                source=None,
                checked_at=when,
                soft_fail_reason="trust anchor: no revocation applies",
            )
        try:
            if self.revocation is None:
                raise RevocationUnknownError(
                    serial=cert.serial_number, reasons=[("none", "no revocation source configured")]
                )
            return self.revocation.check(cert, anchor, at=when)
        except RevocationUnknownError as exc:
            if not self.policy.soft_fail:
                raise
            return RevocationResult(
                status="not-checked", source=None, checked_at=when, soft_fail_reason=exc.message
            )
