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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from card import errors as card_errors
from jpki.auth.challenge import looks_like_nonce
from jpki.auth.errors import ChallengeNotFoundError
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import TOKEN_INFO_MYNUMBER_CARD, CertKind, KeyKind, PinKind
from jpki.errors import PinFormatError
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.pin import encode_pin
from jpki.signer import JpkiCardSigner
from terminal.service.context import ServiceContext
from terminal.service.errors import ServiceError, to_service_error
from terminal.service.readers import CardSession
from terminal.service.security import SignedInOperator

if TYPE_CHECKING:
    from card.protocol import CardChannel
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
    from terminal.counter.context import Progress
    from terminal.flows import KioskContext


def audit_operator(ctx: ServiceContext, operator: SignedInOperator) -> AuditOperator:
    from terminal.audit.trail import Operator as AuditOperator

    return AuditOperator(operator.username, ctx.settings.terminal_id)


def mask_symbol(symbol: str) -> str:
    """Enough of a symbol to recognise it on screen, never enough to use it."""
    return "*" * 8 + symbol[-4:] if len(symbol) > 8 else "*" * len(symbol)


PIN_CODES = frozenset({"PIN_INCORRECT", "PIN_BLOCKED", "PIN_FORMAT"})


@contextmanager
def naming_pin(kind: PinKind | str) -> Iterator[None]:
    """PIN errors raised inside name the PIN concerned (a `pin` field in the error
    body: auth, sign, cardinfo), so a form with several PINs can say which one was
    wrong, blocked or badly formed."""
    name = kind.value if isinstance(kind, PinKind) else kind
    try:
        yield
    except ServiceError as exc:
        if exc.code in PIN_CODES:
            # The reader session maps card errors; the card error it came from may
            # already name its PIN (terminal.counter.cardread does).
            exc.fields.setdefault("pin", getattr(exc.__cause__, "pin", None) or name)
        raise
    except (card_errors.InvalidPinError, card_errors.PinBlockedError, PinFormatError) as exc:
        mapped = to_service_error(exc)
        if mapped is None:  # pragma: no cover - every PIN error has a code
            raise
        # The counter's use cases name the PIN themselves (terminal.counter.cardread).
        mapped.fields.setdefault("pin", getattr(exc, "pin", None) or name)
        raise mapped from exc


def check_pin(kind: PinKind, pin: str) -> None:
    with naming_pin(kind):
        encode_pin(kind, pin)  # PinFormatError -> PIN_FORMAT, before the card is touched


def _same_card(card: CardSession, card_serial: int | None) -> None:
    """The kiosk names the card insertion it checked; another card in the reader now
    (pulled and replaced meanwhile) is refused before any PIN reaches it."""
    if card_serial is not None and card.reader.card_serial != card_serial:
        raise ServiceError("CARD_REMOVED", "the card in the reader is not the one that was checked")


# ---- login ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAnswer:
    """What the kiosk route answers (terminal.flows.LoginOutcome is the flow's result)."""

    serial: int
    integrated_number: str
    portal_symbol: str


def issue_challenge(ctx: ServiceContext, operator: SignedInOperator) -> Challenge:
    challenges = ctx.need_challenges("login (challenge store)")
    return challenges.issue(operator.session_id, ctx.settings.portal_origin, now=ctx.clock())


def kiosk_context(ctx: ServiceContext, operator: SignedInOperator) -> KioskContext:
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
    ctx: ServiceContext,
    reader_id: str,
    pin: str,
    nonce: str | None,
    operator: SignedInOperator,
    card_serial: int | None = None,
) -> LoginAnswer:
    """The kiosk login (terminal.flows.login): VERIFY the auth PIN once, the card signs
    (origin, nonce), the token is validated (chain, revocation, signature, single-use
    challenge bound to this operator session) and the serial resolved to the portal
    symbol."""
    from terminal import flows

    kiosk = kiosk_context(ctx, operator)  # missing parts answer before the PIN is looked at
    check_pin(PinKind.AUTH, pin)
    if nonce is not None and not looks_like_nonce(nonce):
        # Before the reader is even opened: no card work for a nonce never issued.
        raise ChallengeNotFoundError("the nonce is not one this service issues")
    with ctx.readers.session(reader_id, "login") as card:
        _same_card(card, card_serial)
        card.progress("verify-pin")
        with naming_pin(PinKind.AUTH):
            outcome = flows.login(
                card.channel, kiosk, pin=pin, session_id=operator.session_id, nonce=nonce
            )
    return LoginAnswer(
        outcome.auth.serial,
        outcome.resolution.integrated_number,
        outcome.resolution.portal_symbol,
    )


# ---- the kiosk's card check: everything that refuses a card without a PIN try -------


@dataclass(frozen=True)
class KioskCheck:
    card_serial: int
    remaining: int | None
    max_tries: int


def kiosk_check(ctx: ServiceContext, reader_id: str, card_serial: int | None) -> KioskCheck:
    """Whether the card in the reader can log in, found out before the PIN pad opens and
    without spending a PIN try: SELECT of the JPKI applet (NOT_A_MYNUMBER_CARD), the
    auth PIN's status (PIN_BLOCKED), the auth certificate (no PIN needed), its link in
    the registry (NOT_LINKED, CERT_REVOKED, CERT_EXPIRED) and its chain and revocation
    status (CERT_REVOKED, CERT_UNTRUSTED, REVOCATION_UNKNOWN: fail-closed). Nothing of
    the holder is returned; the lookup is not an audited login."""
    from terminal.linkage import CertInfo

    validator = ctx.need_validator("the kiosk's card check (certificate validator)")
    registry = ctx.need_registry("the kiosk's card check (linkage registry)")
    with ctx.readers.session(reader_id, "kiosk-check") as card:
        _same_card(card, card_serial)
        card.progress("check")
        jpki = JpkiSession(card.channel)  # SELECT: NOT_A_MYNUMBER_CARD when absent
        if jpki.token_info() != TOKEN_INFO_MYNUMBER_CARD:
            raise ServiceError("NOT_A_MYNUMBER_CARD", "the card's token is not a JPKI token")
        status = jpki.pin_status(PinKind.AUTH)
        if status.blocked:
            raise ServiceError("PIN_BLOCKED", "the auth PIN is blocked", remaining=0, pin="auth")
        certificate = jpki.read_certificate(CertKind.AUTH)
        inserted = card.reader.card_serial
    info = CertInfo.from_der(certificate)
    registry.resolve_login(info.serial, info.issuer_key_id)  # not audited: no login yet
    validator.validate(certificate, CertKind.AUTH)
    return KioskCheck(inserted, status.remaining, status.max_tries)


# ---- the counter: issuance, renewal, lookups (terminal.counter) ------------------------


def counter_context(ctx: ServiceContext, operator: SignedInOperator) -> CounterContext:
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
    operator: SignedInOperator,
    *,
    resident_code: str,
    pins: CardPins,
) -> tuple[CardReading, IdentityVerdict]:
    """terminal.counter.issuance.preview: the card's holder and the register's verdict,
    before the clerk confirms. Links nothing; audited."""
    from terminal.counter import issuance

    counter = counter_context(ctx, operator)
    with naming_pin("auth"):
        pins.check_formats()
    # naming_pin outermost: the PIN the use case names wins over its "auth" default.
    with naming_pin("auth"), ctx.readers.session(reader_id, "identity-check") as card:
        return issuance.preview(card.channel, counter, resident_code, pins, card.progress)


def renewal_preview(
    ctx: ServiceContext,
    reader_id: str,
    operator: SignedInOperator,
    *,
    old_auth_serial: str,
    pins: CardPins,
) -> tuple[CardReading, IdentityVerdict]:
    """terminal.counter.renewal.preview: is the new card the old serial's person's?"""
    from terminal.counter import renewal as counter_renewal

    counter = counter_context(ctx, operator)
    with naming_pin("auth"):
        pins.check_formats()
    # naming_pin outermost: the PIN the use case names wins over its "auth" default.
    with naming_pin("auth"), ctx.readers.session(reader_id, "identity-check") as card:
        return counter_renewal.preview(card.channel, counter, old_auth_serial, pins, card.progress)


_CounterRequest = TypeVar("_CounterRequest", "IssuanceRequest", "RenewalRequest")
_CounterOutcome = TypeVar("_CounterOutcome")


def _counter_card_operation(
    ctx: ServiceContext,
    reader_id: str,
    operator: SignedInOperator,
    request: _CounterRequest,
    purpose: str,
    use_case: Callable[[CardChannel, CounterContext, _CounterRequest, Progress], _CounterOutcome],
) -> _CounterOutcome:
    """Issuance and renewal alike: the counter's parts, the clerk's face-to-face
    confirmation and the PIN formats before any card command, a request id for the
    audit trail, then the use case on the reader."""
    from terminal.counter.issuance import require_face_to_face

    counter = counter_context(ctx, operator)
    require_face_to_face(request.face_to_face_confirmed)
    with naming_pin("auth"):
        request.pins.check_formats()
    if request.request_id is None:
        request = replace(request, request_id=secrets.token_hex(12))
    # naming_pin outermost: the PIN the use case names wins over its "auth" default.
    with naming_pin("auth"), ctx.readers.session(reader_id, purpose) as card:
        return use_case(card.channel, counter, request, card.progress)


def issuance(
    ctx: ServiceContext, reader_id: str, operator: SignedInOperator, request: IssuanceRequest
) -> IssuanceOutcome:
    """terminal.counter.issuance.issue on the reader (one card operation at a time)."""
    from terminal.counter import issuance as counter_issuance

    return _counter_card_operation(
        ctx, reader_id, operator, request, "issuance", counter_issuance.issue
    )


def renewal(
    ctx: ServiceContext, reader_id: str, operator: SignedInOperator, request: RenewalRequest
) -> RenewalOutcome:
    """terminal.counter.renewal.renew on the reader."""
    from terminal.counter import renewal as counter_renewal

    return _counter_card_operation(
        ctx, reader_id, operator, request, "renewal", counter_renewal.renew
    )


# ---- My Number and signatures --------------------------------------------------------


def read_my_number(ctx: ServiceContext, reader_id: str, cardinfo_pin: str) -> MyNumber:
    check_pin(PinKind.CARD_INFO, cardinfo_pin)
    with ctx.readers.session(reader_id, "read-mynumber") as card:
        info = CardInfoSession(card.channel)
        card.progress("verify-pin")
        with naming_pin(PinKind.CARD_INFO):
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
        with naming_pin(PinKind.SIGN):
            jpki.verify_pin(PinKind.SIGN, sign_pin)
        card.progress("sign")
        sign_ca = jpki.read_certificate(CertKind.SIGN_CA)
        signer = JpkiCardSigner(jpki, KeyKind.SIGN)
        return sign_cms(content, signer, extra_certificates=(sign_ca,))
