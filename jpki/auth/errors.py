"""Why an authentication token was refused. Each error has a stable `code` that the
service and the CLI report as is."""

from __future__ import annotations


class AuthTokenError(Exception):
    """Base of every refusal of an authentication token or challenge."""

    code = "AUTH_FAILED"


class TokenMalformedError(AuthTokenError):
    """The token is too large, not the expected JSON, of an unknown format version, or
    carries something that does not parse (base64, certificate)."""

    code = "TOKEN_MALFORMED"


class ChallengeError(AuthTokenError):
    """The challenge (nonce) the token answers is not usable."""


class ChallengeNotFoundError(ChallengeError):
    """No live challenge with this nonce was issued to this session."""

    code = "CHALLENGE_NOT_FOUND"


class ChallengeReplayedError(ChallengeError):
    """The challenge was already used once; each challenge answers one token only."""

    code = "CHALLENGE_REPLAYED"


class ChallengeExpiredError(ChallengeError):
    """The challenge outlived its lifetime before the token came back."""

    code = "CHALLENGE_EXPIRED"


class OriginMismatchError(AuthTokenError):
    """The challenge was issued for another origin (relying party) than the one this
    verifier serves.

    A token that the card signed for another origin is reported as SIGNATURE_INVALID
    instead: the origin is not in the token, the verifier rebuilds the signed data from
    its own origin, and a signature over another origin is indistinguishable from a
    forged one (telling them apart would mean guessing origins)."""

    code = "ORIGIN_MISMATCH"


class SignatureInvalidError(AuthTokenError):
    """The signature does not verify over (this verifier's origin, this challenge) with
    the token's certificate: tampered signature, token made for another origin or
    challenge, or a certificate swapped for another one (even another valid one)."""

    code = "SIGNATURE_INVALID"


class CertificateRejectedError(AuthTokenError):
    """The token's certificate failed path validation; `cause` is the validator's
    error with its structured fields (revocation date, reason, ...)."""

    code = "CERT_INVALID"

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class CertificateExpiredError(CertificateRejectedError):
    code = "CERT_EXPIRED"


class CertificateRevokedError(CertificateRejectedError):
    code = "CERT_REVOKED"


class CertificateUntrustedError(CertificateRejectedError):
    code = "CERT_UNTRUSTED"


class CertificateMalformedError(CertificateRejectedError):
    """The validator could not parse the certificate (the token's own parse passed)."""

    code = "CERT_MALFORMED"


class RevocationUnknownError(CertificateRejectedError):
    """No revocation source gave a usable answer; with the hard-fail policy this is a
    refusal, never a pass."""

    code = "REVOCATION_UNKNOWN"


_REJECTIONS: dict[str, type[CertificateRejectedError]] = {
    cls.code: cls
    for cls in (
        CertificateExpiredError,
        CertificateMalformedError,
        CertificateRevokedError,
        CertificateUntrustedError,
        RevocationUnknownError,
    )
}


def rejection_for(cause: BaseException) -> CertificateRejectedError:
    """The auth error for a validator error, chosen by the validator's stable code."""
    code = getattr(cause, "code", None)
    cls = (
        _REJECTIONS.get(code, CertificateRejectedError)
        if isinstance(code, str)
        else (CertificateRejectedError)
    )
    return cls(f"certificate refused: {cause}", cause)
