"""What the routes ask of a card and the layers below, one function per use case:
login at the kiosk, issuance and renewal at the counter, reading the My Number, signing.

Card I/O happens inside `ReaderManager.session` (one operation per reader at a time);
validation, the core and the registry are called after the card is released, so a slow
revocation source never holds a reader. PINs are plain `str` only inside these
functions; they are format-checked before any card command (no try spent on a PIN that
cannot be right) and VERIFY is sent at most once per PIN per request."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from jpki.auth import create_auth_token
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.pin import encode_pin
from jpki.signer import JpkiCardSigner
from terminal.service.context import ServiceContext
from terminal.service.deps import require_component
from terminal.service.errors import ServiceError
from terminal.service.readers import CardSession
from terminal.service.security import Operator


def audit_operator(ctx: ServiceContext, operator: Operator) -> Any:
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


def issue_challenge(ctx: ServiceContext, operator: Operator) -> Any:
    require_component(ctx.challenges, "login (challenge store)")
    assert ctx.challenges is not None
    return ctx.challenges.issue(operator.session_id, ctx.settings.portal_origin)


def login(
    ctx: ServiceContext, reader_id: str, pin: str, nonce: str | None, operator: Operator
) -> LoginOutcome:
    """The kiosk login: VERIFY the auth PIN once, the card signs (origin, nonce), the
    token is validated (chain, revocation, signature, single-use challenge) and the
    serial resolved to the portal symbol."""
    require_component(ctx.token_validator, "login (token validator)")
    require_component(ctx.registry, "login (linkage registry)")
    check_pin(PinKind.AUTH, pin)
    if nonce is None:
        nonce = issue_challenge(ctx, operator).nonce
    assert nonce is not None
    origin = ctx.settings.portal_origin
    with ctx.readers.session(reader_id, "login") as card:
        jpki = JpkiSession(card.channel)
        card.progress("verify-pin")
        jpki.verify_pin(PinKind.AUTH, pin)
        card.progress("sign")
        token = create_auth_token(JpkiCardSigner(jpki, KeyKind.AUTH), origin, nonce)
    progress = _progress_after(ctx, reader_id)
    progress("validate")
    result = ctx.token_validator.validate(token.to_json(), operator.session_id, nonce)  # type: ignore[union-attr]
    progress("link")
    resolution = ctx.registry.resolve_login(  # type: ignore[union-attr]
        result.serial, result.issuer_key_id, operator=audit_operator(ctx, operator)
    )
    return LoginOutcome(result.serial, resolution.integrated_number, resolution.portal_symbol)


def _progress_after(ctx: ServiceContext, reader_id: str) -> Any:
    """Progress events for the steps after the card was released."""

    def publish(step: str) -> None:
        reader = ctx.readers.get(reader_id)
        ctx.readers.events.publish({"type": "progress", "reader": reader.state(), "step": step})

    return publish


# ---- reading a new card at the counter -----------------------------------------------


@dataclass(frozen=True)
class CardReading:
    auth_cert: bytes
    sign_cert: bytes
    my_number: MyNumber | None
    token_json: str
    nonce: str


def read_for_issuance(
    ctx: ServiceContext,
    card: CardSession,
    operator: Operator,
    auth_pin: str,
    sign_pin: str,
    cardinfo_pin: str | None,
) -> CardReading:
    """With the holder's PINs: both certificates, a proof that the card holds the auth
    key (it signs a fresh challenge), and the My Number when the card-info PIN is
    given. Each PIN is verified once."""
    assert ctx.challenges is not None
    challenge = ctx.challenges.issue(operator.session_id, ctx.settings.portal_origin)
    jpki = JpkiSession(card.channel)
    card.progress("verify-pin")
    jpki.verify_pin(PinKind.AUTH, auth_pin)
    jpki.verify_pin(PinKind.SIGN, sign_pin)
    card.progress("read-certificates")
    auth_cert = jpki.read_certificate(CertKind.AUTH)
    sign_cert = jpki.read_certificate(CertKind.SIGN)
    card.progress("sign")
    signer = JpkiCardSigner(jpki, KeyKind.AUTH, auth_cert)
    token = create_auth_token(signer, ctx.settings.portal_origin, challenge.nonce)
    my_number = None
    if cardinfo_pin is not None:
        card.progress("read-mynumber")
        info = CardInfoSession(card.channel)  # selecting it ends the JPKI PIN state
        info.verify_pin(cardinfo_pin)
        my_number = info.read_my_number()
    return CardReading(auth_cert, sign_cert, my_number, token.to_json(), challenge.nonce)


def validate_reading(ctx: ServiceContext, reading: CardReading, operator: Operator) -> None:
    """Auth certificate (with proof of key possession) and sign certificate: chain,
    validity and revocation, hard fail."""
    assert ctx.token_validator is not None and ctx.validator is not None
    ctx.token_validator.validate(reading.token_json, operator.session_id, reading.nonce)
    ctx.validator.validate(reading.sign_cert, CertKind.SIGN)


def _require_counter_parts(ctx: ServiceContext) -> None:
    require_component(ctx.challenges, "issuance (challenge store)")
    require_component(ctx.token_validator, "issuance (token validator)")
    require_component(ctx.validator, "issuance (certificate validator)")
    require_component(ctx.registry, "issuance (linkage registry)")


def _check_pins(auth_pin: str, sign_pin: str, cardinfo_pin: str | None) -> None:
    check_pin(PinKind.AUTH, auth_pin)
    check_pin(PinKind.SIGN, sign_pin)
    if cardinfo_pin is not None:
        check_pin(PinKind.CARD_INFO, cardinfo_pin)


@dataclass(frozen=True)
class IssuanceOutcome:
    result: Any  # terminal.linkage.IssueResult
    my_number: MyNumber | None
    portal_symbol: str | None


def issuance(
    ctx: ServiceContext,
    reader_id: str,
    operator: Operator,
    *,
    resident_code: str,
    auth_pin: str,
    sign_pin: str,
    cardinfo_pin: str | None,
    request_id: str | None,
) -> IssuanceOutcome:
    _require_counter_parts(ctx)
    require_component(ctx.core, "issuance (symbol core)")
    _check_pins(auth_pin, sign_pin, cardinfo_pin)
    from terminal.linkage import CertInfo, PersonRef
    from terminal.linkage.core_client import symbols_for_issuance

    with ctx.readers.session(reader_id, "issuance") as card:
        reading = read_for_issuance(ctx, card, operator, auth_pin, sign_pin, cardinfo_pin)
    progress = _progress_after(ctx, reader_id)
    progress("validate")
    validate_reading(ctx, reading, operator)
    progress("link")
    symbols = symbols_for_issuance(ctx.core, resident_code)  # type: ignore[arg-type]
    result = ctx.registry.issue(  # type: ignore[union-attr]
        PersonRef(my_number=reading.my_number if ctx.mynumber_index else None),
        CertInfo.from_der(reading.auth_cert),
        CertInfo.from_der(reading.sign_cert),
        symbols,
        audit_operator(ctx, operator),
        request_id=request_id or secrets.token_hex(12),
    )
    return IssuanceOutcome(result, reading.my_number, symbols.get("portal"))


def renewal(
    ctx: ServiceContext,
    reader_id: str,
    operator: Operator,
    *,
    old_auth_serial: str,
    auth_pin: str,
    sign_pin: str,
    request_id: str | None,
) -> Any:
    """A renewed card for a person linked through `old_auth_serial`: the new
    certificates are read, checked, and chained to the old ones."""
    _require_counter_parts(ctx)
    _check_pins(auth_pin, sign_pin, None)
    from terminal.linkage import CertInfo

    with ctx.readers.session(reader_id, "renewal") as card:
        reading = read_for_issuance(ctx, card, operator, auth_pin, sign_pin, None)
    progress = _progress_after(ctx, reader_id)
    progress("validate")
    validate_reading(ctx, reading, operator)
    progress("link")
    return ctx.registry.renew(  # type: ignore[union-attr]
        old_auth_serial,
        CertInfo.from_der(reading.auth_cert),
        CertInfo.from_der(reading.sign_cert),
        audit_operator(ctx, operator),
        request_id=request_id or secrets.token_hex(12),
    )


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


def not_configured(what: str) -> ServiceError:
    return ServiceError("NOT_AVAILABLE", f"{what} is not configured in this service")
