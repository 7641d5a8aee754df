"""Certificate path validation and revocation checking for the single-tier JPKI."""

from __future__ import annotations

from jpki.validation.errors import (
    CertificateExpiredError,
    CertificateRevokedError,
    CrlError,
    FetchError,
    MalformedCertificateError,
    OcspError,
    RevocationSourceError,
    RevocationUnknownError,
    UntrustedCertificateError,
    ValidationError,
)
from jpki.validation.policy import RevocationPolicy
from jpki.validation.result import RevocationResult, ValidationResult
from jpki.validation.trust import TrustAnchor, TrustStore
from jpki.validation.validator import CertificateValidator, RevocationCheck

__all__ = [
    "CertificateExpiredError",
    "CertificateRevokedError",
    "CertificateValidator",
    "CrlError",
    "FetchError",
    "MalformedCertificateError",
    "OcspError",
    "RevocationCheck",
    "RevocationPolicy",
    "RevocationResult",
    "RevocationSourceError",
    "RevocationUnknownError",
    "TrustAnchor",
    "TrustStore",
    "UntrustedCertificateError",
    "ValidationError",
    "ValidationResult",
]
