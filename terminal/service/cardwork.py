"""What the routes ask of a card and the layers below, one function per use case:
login at the kiosk, issuance and renewal at the counter (the use cases themselves live in
terminal.counter, shared with the CLI), reading the My Number, signing.

Card I/O happens inside `ReaderManager.session` (one operation per reader at a time);
validation, the core and the registry are called after the card is released, so a slow
revocation source never holds a reader. PINs are plain `str` only inside these
functions; they are format-checked before any card command (no try spent on a PIN that
cannot be right) and VERIFY is sent at most once per PIN per request."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.pin import encode_pin
from jpki.signer import JpkiCardSigner
from terminal.service.context import ServiceContext
from terminal.service.security import Operator

if TYPE_CHECKING:
    from jpki.auth import Challenge
    from terminal.audit.trail import Operator as AuditOperator
    from terminal.counter import (
        CardPins,
        CardReading,
        CounterContext,
        IdentityVerdict,
        IssuanceOutcome,
        IssuanceRequest,
        RenewalOutcome,
        RenewalRequest,
    )
    from terminal.flows import KioskContext


def audit_operator(ctx: ServiceContext, operator: Operator) -> AuditOperator:
    from terminal.audit.trail import Operator as AuditOperator

    return AuditOperator(operator.username, ctx.settings.terminal_id)


def mask_symbol(symbol: str) -> str:
    """Enough of a symbol to recognise it on screen, never enough to use it."""
    return "*" * 8 + symbol[-4:] if len(symbol) > 8 else "*" * len(symbol)


def check_pin(kind: PinKind, pin: str) -> None:
    encode_pin(kind, pin)  # PinFormatError -> PIN_FORMAT, before the card is touched


# ---- login ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    serial: int
    integrated_number: str
    portal_symbol: str


def issue_challenge(ctx: ServiceContext, operator: Operator) -> Challenge:
    challenges = ctx.need_challenges("login (challenge store)")
    return challenges.issue(operator.session_id, ctx.settings.portal_origin, now=ctx.clock())


def kiosk_context(ctx: ServiceContext, operator: Operator) -> KioskContext:
    """The kiosk's parts; NOT_AVAILABLE (in this order) for the first one missing."""
    from terminal.flows import KioskContext

    return KioskContext(
        challenges=ctx.need_challenges("login (challenge store)"),
        token_validator=ctx.need_token_validator("login (token validator)"),
        registry=ctx.need_registry("login (linkage registry)"),
        origin=ctx.settings.portal_origin,
        operator=audit_operator(ctx, operator),
        clock=ctx.clock,
    )


def login(
    ctx: ServiceContext, reader_id: str, pin: str, nonce: str | None, operator: Operator
) -> LoginOutcome:
    """The kiosk login (terminal.flows.login): VERIFY the auth PIN once, the card signs
    (origin, nonce), the token is validated (chain, revocation, signature, single-use
    challenge bound to this operator session) and the serial resolved to the portal
    symbol."""
    from terminal import flows

    kiosk = kiosk_context(ctx, operator)  # missing parts answer before the PIN is looked at
    check_pin(PinKind.AUTH, pin)
    with ctx.readers.session(reader_id, "login") as card:
        card.progress("verify-pin")
        outcome = flows.login(
            card.channel, kiosk, pin=pin, session_id=operator.session_id, nonce=nonce
        )
    return LoginOutcome(
        outcome.auth.serial,
        outcome.resolution.integrated_number,
        outcome.resolution.portal_symbol,
    )


# ---- the counter: issuance, renewal, lookups (terminal.counter) ------------------------


def counter_context(ctx: ServiceContext, operator: Operator) -> CounterContext:
    """The counter's parts; NOT_AVAILABLE for the first one missing, before any PIN or
    card command. The auth-key proof's challenge is bound to the operator's session."""
    from terminal.counter import CounterContext

    return CounterContext(
        validator=ctx.need_validator("the counter (certificate validator)"),
        registry=ctx.need_registry("the counter (linkage registry)"),
        core=ctx.need_core("the counter (symbol core)"),
        challenges=ctx.need_challenges("the counter (challenge store)"),
        token_validator=ctx.need_token_validator("the counter (token validator)"),
        origin=ctx.settings.portal_origin,
        operator=audit_operator(ctx, operator),
        index_my_number=ctx.mynumber_index is not None,
        session_id=operator.session_id,
        clock=ctx.clock,
    )


def identity_preview(
    ctx: ServiceContext,
    reader_id: str,
    operator: Operator,
    *,
    resident_code: str,
    pins: CardPins,
) -> tuple[CardReading, IdentityVerdict]:
    """terminal.counter.issuance.preview: the card's holder and the register's verdict,
    before the clerk confirms. Links nothing; audited."""
    from terminal.counter import issuance

    counter = counter_context(ctx, operator)
    pins.check_formats()
    with ctx.readers.session(reader_id, "identity-check") as card:
        return issuance.preview(card.channel, counter, resident_code, pins, card.progress)


def issuance(
    ctx: ServiceContext, reader_id: str, operator: Operator, request: IssuanceRequest
) -> IssuanceOutcome:
    """terminal.counter.issuance.issue on the reader (one card operation at a time)."""
    from terminal.counter import issuance as counter_issuance
    from terminal.counter.issuance import require_face_to_face

    counter = counter_context(ctx, operator)
    require_face_to_face(request.face_to_face_confirmed)
    request.pins.check_formats()
    if request.request_id is None:
        request = replace(request, request_id=secrets.token_hex(12))
    with ctx.readers.session(reader_id, "issuance") as card:
        return counter_issuance.issue(card.channel, counter, request, card.progress)


def renewal(
    ctx: ServiceContext, reader_id: str, operator: Operator, request: RenewalRequest
) -> RenewalOutcome:
    """terminal.counter.renewal.renew on the reader."""
    from terminal.counter import renewal as counter_renewal
    from terminal.counter.issuance import require_face_to_face

    counter = counter_context(ctx, operator)
    require_face_to_face(request.face_to_face_confirmed)
    request.pins.check_formats()
    if request.request_id is None:
        request = replace(request, request_id=secrets.token_hex(12))
    with ctx.readers.session(reader_id, "renewal") as card:
        return counter_renewal.renew(card.channel, counter, request, card.progress)


# ---- My Number and signatures --------------------------------------------------------


def read_my_number(ctx: ServiceContext, reader_id: str, cardinfo_pin: str) -> MyNumber:
    check_pin(PinKind.CARD_INFO, cardinfo_pin)
    with ctx.readers.session(reader_id, "read-mynumber") as card:
        info = CardInfoSession(card.channel)
        card.progress("verify-pin")
        info.verify_pin(cardinfo_pin)
        card.progress("read-mynumber")
        return info.read_my_number()


def sign_document(ctx: ServiceContext, reader_id: str, sign_pin: str, content: bytes) -> bytes:
    """A detached CAdES-BES signature by the card's signature key (one VERIFY of the
    sign PIN, one card signature)."""
    from jpki.cms import sign_cms

    check_pin(PinKind.SIGN, sign_pin)
    with ctx.readers.session(reader_id, "sign") as card:
        jpki = JpkiSession(card.channel)
        card.progress("verify-pin")
        jpki.verify_pin(PinKind.SIGN, sign_pin)
        card.progress("sign")
        sign_ca = jpki.read_certificate(CertKind.SIGN_CA)
        signer = JpkiCardSigner(jpki, KeyKind.SIGN)
        return sign_cms(content, signer, extra_certificates=(sign_ca,))
