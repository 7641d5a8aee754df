"""The counter's and the kiosk's flows over the card, the validator, the symbol core and
the linkage registry. Library functions: the CLI and the service both call these, so a
flow behaves the same wherever it is started.

Every flow reads the PIN status before anything else is sent with a PIN (a blocked PIN
is reported without a VERIFY), sends each VERIFY at most once, and validates
certificates (chain + revocation, hard-fail) before a single link is written."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from card.protocol import CardChannel
from jpki.auth import AuthResult, AuthTokenValidator, ChallengeStore, create_auth_token
from jpki.auth.challenge import looks_like_nonce
from jpki.auth.errors import ChallengeNotFoundError
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from jpki.signer import JpkiCardSigner
from jpki.validation import CertificateValidator, ValidationResult
from terminal.audit.trail import Operator
from terminal.linkage.core_client import SymbolSource, symbols_for_issuance
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.types import (
    CertInfo,
    IssueResult,
    LoginResolution,
    PersonRef,
    RenewResult,
)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CheckedCard:
    """A card's certificates, read and validated."""

    auth_certificate: bytes
    sign_certificate: bytes | None
    auth: ValidationResult
    sign: ValidationResult | None

    def summary(self) -> dict[str, Any]:
        def one(result: ValidationResult | None) -> dict[str, Any] | None:
            if result is None:
                return None
            return {
                "serial": str(result.serial),
                "issuer_key_id": result.issuer_key_id.hex(),
                "not_after": result.not_after.isoformat(),
                "anchor": result.anchor,
                "revocation": result.revocation.status,
                "revocation_source": result.revocation.source,
            }

        return {"auth": one(self.auth), "sign": one(self.sign)}


@dataclass
class CounterContext:
    """What the counter's flows work with."""

    validator: CertificateValidator
    registry: LinkageRegistry
    symbols: SymbolSource
    operator: Operator
    clock: Clock = field(default=utc_now)


def read_and_validate(
    channel: CardChannel,
    validator: CertificateValidator,
    *,
    sign_pin: str | None,
    at: dt.datetime,
) -> CheckedCard:
    """Read the auth certificate (free) and, with the holder's sign PIN, the signature
    certificate; validate both as of `at`. Without a sign PIN (holders under 15 have no
    signature certificate) only the auth certificate is read."""
    session = JpkiSession(channel)
    auth_der = session.read_certificate(CertKind.AUTH)
    sign_der: bytes | None = None
    if sign_pin is not None:
        session.verify_pin(PinKind.SIGN, sign_pin)
        sign_der = session.read_certificate(CertKind.SIGN)
    auth = validator.validate(auth_der, CertKind.AUTH, at=at)
    sign = validator.validate(sign_der, CertKind.SIGN, at=at) if sign_der else None
    return CheckedCard(auth_der, sign_der, auth, sign)


@dataclass(frozen=True)
class IssuanceOutcome:
    card: CheckedCard
    result: IssueResult


def issue_card(
    channel: CardChannel,
    context: CounterContext,
    *,
    resident_code: str,
    sign_pin: str | None,
    person: PersonRef | None = None,
    request_id: str | None = None,
) -> IssuanceOutcome:
    """Issuance (交付): read and validate the new card's certificates, obtain the
    person's symbols from the core, and link them in one registry transaction. The
    resident-record code goes to the core only; the registry never sees it."""
    card = read_and_validate(channel, context.validator, sign_pin=sign_pin, at=context.clock())
    symbols = symbols_for_issuance(context.symbols, resident_code)
    result = context.registry.issue(
        person or PersonRef(),
        CertInfo.from_der(card.auth_certificate),
        CertInfo.from_der(card.sign_certificate) if card.sign_certificate else None,
        symbols,
        context.operator,
        request_id=request_id,
    )
    return IssuanceOutcome(card, result)


@dataclass(frozen=True)
class RenewalOutcome:
    card: CheckedCard
    result: RenewResult


def renew_card(
    channel: CardChannel,
    context: CounterContext,
    *,
    old_auth_serial: int | str,
    sign_pin: str | None,
    request_id: str | None = None,
) -> RenewalOutcome:
    """Renewal (更新): the new card's certificates are validated and chained to the
    person's old serials (新旧シリアル番号紐付け)."""
    card = read_and_validate(channel, context.validator, sign_pin=sign_pin, at=context.clock())
    result = context.registry.renew(
        old_auth_serial,
        CertInfo.from_der(card.auth_certificate),
        CertInfo.from_der(card.sign_certificate) if card.sign_certificate else None,
        context.operator,
        request_id=request_id,
    )
    return RenewalOutcome(card, result)


@dataclass
class KioskContext:
    """What a login kiosk works with: the verifier side (challenges, token validator)
    runs in the same service here, rebuilding origin and nonce from its own session."""

    challenges: ChallengeStore
    token_validator: AuthTokenValidator
    registry: LinkageRegistry
    origin: str
    operator: Operator
    clock: Clock = field(default=utc_now)


@dataclass(frozen=True)
class LoginOutcome:
    auth: AuthResult
    resolution: LoginResolution
    token: str


def login(
    channel: CardChannel,
    context: KioskContext,
    *,
    pin: str,
    session_id: str | None = None,
    nonce: str | None = None,
) -> LoginOutcome:
    """A full portal login: fresh challenge, auth PIN, the card signs, the token is
    validated (chain, revocation, signature, origin, single-use challenge) and the
    certificate serial resolves to the portal symbol.

    `nonce` (with the `session_id` it was issued to) answers a challenge the caller got
    earlier from `context.challenges` (the service's /api/auth/challenge); without it a
    fresh challenge is issued here."""
    if nonce is None:
        session_id = session_id or secrets.token_urlsafe(16)
        nonce = context.challenges.issue(session_id, context.origin, now=context.clock()).nonce
    elif session_id is None:
        raise ValueError("a caller's nonce needs the session id it was issued to")
    elif not looks_like_nonce(nonce):
        # Checked before the PIN: a nonce this service never issues (wrong length,
        # non-ASCII) must not cost a VERIFY and a card signature first.
        raise ChallengeNotFoundError("the nonce is not one this service issues")
    session = JpkiSession(channel)
    session.verify_pin(PinKind.AUTH, pin)
    signer = JpkiCardSigner(session, KeyKind.AUTH)
    token = create_auth_token(signer, context.origin, nonce).to_json()
    auth = context.token_validator.validate(token, session_id, nonce, now=context.clock())
    if auth.issuer_key_id is None:  # the validator always names the issuing generation
        raise ValueError("validated token lacks the issuer key id")
    resolution = context.registry.resolve_login(
        auth.serial, auth.issuer_key_id, operator=context.operator, now=context.clock()
    )
    return LoginOutcome(auth, resolution, token)
