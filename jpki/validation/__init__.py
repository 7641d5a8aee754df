"""Certificate path validation and revocation checking for the single-tier JPKI."""

from __future__ import annotations

from jpki.validation.crlindex import CrlIndex, CrlInfo, Revoked
from jpki.validation.crlstore import CrlStore
from jpki.validation.errors import (
    CertificateExpiredError,
    CertificateRevokedError,
    CrlError,
    FetchError,
    InvalidInstantError,
    MalformedCertificateError,
    OcspError,
    RevocationSourceError,
    RevocationUnknownError,
    UntrustedCertificateError,
    ValidationError,
)
from jpki.validation.fetchers import (
    CrlFetcher,
    FileCrlFetcher,
    HttpCrlFetcher,
    HttpOcspTransport,
    InMemoryCrlFetcher,
    InMemoryOcspTransport,
    OcspTransport,
    RoutingCrlFetcher,
)
from jpki.validation.ocsp import OcspAnswer, OcspClient
from jpki.validation.policy import RevocationPolicy
from jpki.validation.result import RevocationResult, ValidationResult
from jpki.validation.revocation import RevocationChecker
from jpki.validation.trust import TrustAnchor, TrustStore
from jpki.validation.validator import CertificateValidator, RevocationCheck

__all__ = [
    "CertificateExpiredError",
    "CertificateRevokedError",
    "CertificateValidator",
    "CrlError",
    "CrlFetcher",
    "CrlIndex",
    "CrlInfo",
    "CrlStore",
    "FetchError",
    "FileCrlFetcher",
    "HttpCrlFetcher",
    "HttpOcspTransport",
    "InMemoryCrlFetcher",
    "InMemoryOcspTransport",
    "InvalidInstantError",
    "MalformedCertificateError",
    "OcspAnswer",
    "OcspClient",
    "OcspError",
    "OcspTransport",
    "RevocationCheck",
    "RevocationChecker",
    "RevocationPolicy",
    "RevocationResult",
    "RevocationSourceError",
    "RevocationUnknownError",
    "Revoked",
    "RoutingCrlFetcher",
    "TrustAnchor",
    "TrustStore",
    "UntrustedCertificateError",
    "ValidationError",
    "ValidationResult",
]
