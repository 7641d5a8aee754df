"""PIN-gated login: single-use challenges, the card-signed token, and its verifier."""

from __future__ import annotations

from jpki.auth.challenge import (
    DEFAULT_LIFETIME,
    Challenge,
    ChallengeStore,
    InMemoryChallengeStore,
    new_nonce,
)
from jpki.auth.errors import (
    AuthTokenError,
    CertificateExpiredError,
    CertificateMalformedError,
    CertificateRejectedError,
    CertificateRevokedError,
    CertificateUntrustedError,
    ChallengeError,
    ChallengeExpiredError,
    ChallengeNotFoundError,
    ChallengeReplayedError,
    OriginMismatchError,
    RevocationUnknownError,
    SignatureInvalidError,
    TokenMalformedError,
)
from jpki.auth.file_store import ChallengeFileError, FileChallengeStore
from jpki.auth.token import AuthToken, create_auth_token, parse_auth_token, signed_data
from jpki.auth.validator import AuthResult, AuthTokenValidator, ValidationRecord

__all__ = [
    "DEFAULT_LIFETIME",
    "AuthResult",
    "AuthToken",
    "AuthTokenError",
    "AuthTokenValidator",
    "CertificateExpiredError",
    "CertificateMalformedError",
    "CertificateRejectedError",
    "CertificateRevokedError",
    "CertificateUntrustedError",
    "Challenge",
    "ChallengeError",
    "ChallengeExpiredError",
    "ChallengeFileError",
    "ChallengeNotFoundError",
    "ChallengeReplayedError",
    "ChallengeStore",
    "FileChallengeStore",
    "InMemoryChallengeStore",
    "OriginMismatchError",
    "RevocationUnknownError",
    "SignatureInvalidError",
    "TokenMalformedError",
    "ValidationRecord",
    "create_auth_token",
    "new_nonce",
    "parse_auth_token",
    "signed_data",
]
