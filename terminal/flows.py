"""The kiosk's login flow over the card, the token validator and the linkage registry.
A library function: the CLI and the service both call it, so it behaves the same
wherever it is started. (The counter's issuance and renewal are terminal.counter's.)

It reads the PIN status before anything is sent with a PIN (a blocked PIN is reported
without a VERIFY), sends VERIFY at most once, and validates the token's certificate
(chain + revocation, hard-fail) before the serial is resolved."""

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
from jpki.clock import utc_now
from jpki.constants import KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from jpki.signer import JpkiCardSigner
from jpki.validation import ValidationResult
from terminal.audit.trail import Operator
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.types import (
    LoginResolution,
)

Clock = Callable[[], dt.datetime]


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
