"""Server-side check of a login token (see token.py for what the card signs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from jpki.auth.challenge import Challenge, ChallengeStore, Clock, looks_like_nonce, utc_now
from jpki.auth.errors import (
    ChallengeNotFoundError,
    OriginMismatchError,
    SignatureInvalidError,
    TokenMalformedError,
    rejection_for,
)
from jpki.auth.token import AuthToken, parse_auth_token, signed_data
from jpki.constants import CertKind
from jpki.signer import CertificateChecker, CheckedCertificate
from jpki.validation.certinfo import ParsedCertificate, common_name, parse_der
from jpki.validation.errors import (
    LIBRARY_PARSE_ERRORS,
    MalformedCertificateError,
    ValidationError,
)
from jpki.validation.result import ValidationResult
from jpki.validation.validator import CertificateValidator


@dataclass(frozen=True)
class ValidationRecord:
    """What was checked, when, and how revocation was decided (for the audit trail)."""

    checked_at: datetime
    revocation_source: str
    revocation_status: str


@dataclass(frozen=True)
class AuthResult:
    serial: int
    issuer_key_id: bytes | None
    subject_cn: str
    certificate: bytes
    challenge: Challenge
    record: ValidationRecord
    validation: CheckedCertificate


class AuthTokenValidator:
    """Checks login tokens for one origin (relying party).

    Order: token shape (no state touched), challenge (taken, so any well-formed token
    uses up its challenge whether it passes or not), origin binding of the challenge,
    certificate parse, signature over the data rebuilt from this verifier's origin and
    the challenge, then path validation with revocation (hard fail). The signature comes
    before revocation so a forged token never triggers a revocation lookup."""

    def __init__(
        self,
        checker: CertificateChecker,
        challenge_store: ChallengeStore,
        expected_origin: str,
        *,
        clock: Clock = utc_now,
    ) -> None:
        if not expected_origin:
            raise ValueError("the verifier needs its own origin")
        self.checker = checker
        self.challenges = challenge_store
        self.expected_origin = expected_origin
        self._clock = clock

    def validate(
        self,
        token_json: str | bytes,
        session_id: str,
        nonce: str,
        *,
        now: datetime | None = None,
    ) -> AuthResult:
        now = now or self._clock()
        token = parse_auth_token(token_json)
        if not looks_like_nonce(nonce):
            raise ChallengeNotFoundError("not a challenge nonce")
        challenge = self.challenges.take(nonce, session_id, now=now)
        if challenge.origin != self.expected_origin:
            raise OriginMismatchError(
                f"challenge was issued for {challenge.origin!r}, this verifier serves "
                f"{self.expected_origin!r}"
            )
        parsed, key = self._load_certificate(token)
        _verify_signature(key, token.signature, signed_data(self.expected_origin, nonce))
        try:
            checked: CheckedCertificate
            if isinstance(self.checker, CertificateValidator):
                # The project's validator takes this parse as is (one parse per token)
                # and keeps the common name with the certificate's verified path.
                checked = self.checker.validate_parsed(parsed, CertKind.AUTH, at=now)
                subject_cn = checked.common_name
            else:
                checked = self.checker.validate(token.certificate, CertKind.AUTH, at=now)
                subject_cn = common_name(parsed.certificate)
        except ValidationError as exc:
            raise rejection_for(exc) from exc
        return AuthResult(
            serial=checked.serial,
            issuer_key_id=checked.issuer_key_id,
            subject_cn=subject_cn,
            certificate=token.certificate,
            challenge=challenge,
            record=validation_record(checked, now),
            validation=checked,
        )

    def _load_certificate(self, token: AuthToken) -> tuple[ParsedCertificate, rsa.RSAPublicKey]:
        key: CertificatePublicKeyTypes
        try:
            parsed = parse_der(token.certificate)
            if isinstance(self.checker, CertificateValidator):
                # A certificate validated before comes with its (already used) key.
                key = self.checker.subject_public_key(parsed, CertKind.AUTH)
            else:
                key = parsed.certificate.public_key()
        except MalformedCertificateError as exc:
            raise TokenMalformedError(f"token certificate does not parse: {exc}") from exc
        except LIBRARY_PARSE_ERRORS as exc:  # e.g. UnsupportedAlgorithm for an odd key
            raise TokenMalformedError(f"token certificate key does not parse: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise TokenMalformedError("token certificate does not hold an RSA key")
        return parsed, key


def _verify_signature(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> None:
    try:
        key.verify(signature, hashlib.sha256(data).digest(), _PKCS1V15, _PREHASHED_SHA256)
    except InvalidSignature as exc:
        raise SignatureInvalidError(
            "signature does not verify for this origin and challenge with the token's certificate"
        ) from exc


_PKCS1V15 = padding.PKCS1v15()
_PREHASHED_SHA256 = Prehashed(hashes.SHA256())


def validation_record(checked: CheckedCertificate, at: datetime) -> ValidationRecord:
    """Revocation facts from the validator's result, as far as it reports them."""
    if isinstance(checked, ValidationResult):  # the project's result: plain strings
        return ValidationRecord(
            checked_at=at,
            revocation_source=checked.revocation.source or "unreported",
            revocation_status=checked.revocation.status or "unreported",
        )
    revocation = getattr(checked, "revocation", None)
    source = getattr(revocation, "source", None) if revocation is not None else None
    status = getattr(revocation, "status", None) if revocation is not None else None
    return ValidationRecord(
        checked_at=at,
        revocation_source=str(getattr(source, "value", source) or "unreported"),
        revocation_status=str(getattr(status, "value", status) or "unreported"),
    )
