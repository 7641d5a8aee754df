"""What the routes ask of a card and the layers below, one function per use case:
login at the kiosk, issuance and renewal at the counter, reading the My Number, signing.

Card I/O happens inside `ReaderManager.session` (one operation per reader at a time);
validation, the core and the registry are called after the card is released, so a slow
revocation source never holds a reader. PINs are plain `str` only inside these
functions; they are format-checked before any card command (no try spent on a PIN that
cannot be right) and VERIFY is sent at most once per PIN per request."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from card import errors as card_errors
from jpki.auth import create_auth_token
from jpki.auth.challenge import looks_like_nonce
from jpki.auth.errors import ChallengeNotFoundError
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import TOKEN_INFO_MYNUMBER_CARD, CertKind, KeyKind, PinKind
from jpki.errors import PinFormatError
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.pin import encode_pin
from jpki.signer import JpkiCardSigner
from terminal.service.context import ServiceContext, not_configured
from terminal.service.errors import ServiceError, to_service_error
from terminal.service.readers import CardSession
from terminal.service.security import Operator

if TYPE_CHECKING:
    from jpki.auth import Challenge
    from terminal.audit.trail import Operator as AuditOperator
    from terminal.flows import CounterContext, KioskContext
    from terminal.linkage import IssueResult, RenewResult


def audit_operator(ctx: ServiceContext, operator: Operator) -> AuditOperator:
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
            exc.fields.setdefault("pin", name)
        raise
    except (card_errors.InvalidPinError, card_errors.PinBlockedError, PinFormatError) as exc:
        mapped = to_service_error(exc)
        if mapped is None:  # pragma: no cover - every PIN error has a code
            raise
        mapped.fields.setdefault("pin", name)
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
    ctx: ServiceContext,
    reader_id: str,
    pin: str,
    nonce: str | None,
    operator: Operator,
    card_serial: int | None = None,
) -> LoginOutcome:
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
    return LoginOutcome(
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


# ---- the counter: issuance and renewal -----------------------------------------------


def prove_auth_key(
    ctx: ServiceContext, card: CardSession, operator: Operator, auth_pin: str
) -> None:
    """The holder's auth PIN unlocks the auth key once and the card signs a fresh
    challenge, which is validated like a login token: the card in the reader holds the
    key of the certificate about to be linked, and the certificate is good."""
    origin = ctx.settings.portal_origin
    challenges = ctx.need_challenges("the counter (challenge store)")
    challenge = challenges.issue(operator.session_id, origin, now=ctx.clock())
    jpki = JpkiSession(card.channel)
    card.progress("verify-pin")
    with naming_pin(PinKind.AUTH):
        jpki.verify_pin(PinKind.AUTH, auth_pin)
    card.progress("sign")
    token = create_auth_token(JpkiCardSigner(jpki, KeyKind.AUTH), origin, challenge.nonce)
    card.progress("validate")
    ctx.need_token_validator("the counter (token validator)").validate(
        token.to_json(), operator.session_id, challenge.nonce, now=ctx.clock()
    )


class _NoSymbolCore:
    """Stands in for the symbol core in flows that take no symbols (renewal), so a
    service without a core can still renew; a call answers NOT_AVAILABLE."""

    agency = ""

    def person_symbols(self, resident_code: str, agencies: Iterable[str] = ()) -> dict[str, str]:
        raise not_configured("the symbol core")

    def translate(self, from_agency: str, symbol: str, to_agency: str) -> str:
        raise not_configured("the symbol core")


def counter_context(ctx: ServiceContext, operator: Operator) -> CounterContext:
    from terminal.flows import CounterContext

    return CounterContext(
        validator=ctx.need_validator("the counter (certificate validator)"),
        registry=ctx.need_registry("the counter (linkage registry)"),
        symbols=ctx.core if ctx.core is not None else _NoSymbolCore(),
        operator=audit_operator(ctx, operator),
        clock=ctx.clock,
    )


def _require_counter_parts(ctx: ServiceContext) -> None:
    """Every part the counter needs, checked before any PIN or card command."""
    ctx.need_challenges("the counter (challenge store)")
    ctx.need_token_validator("the counter (token validator)")
    ctx.need_validator("the counter (certificate validator)")
    ctx.need_registry("the counter (linkage registry)")


def _check_pins(auth_pin: str, sign_pin: str, cardinfo_pin: str | None) -> None:
    check_pin(PinKind.AUTH, auth_pin)
    check_pin(PinKind.SIGN, sign_pin)
    if cardinfo_pin is not None:
        check_pin(PinKind.CARD_INFO, cardinfo_pin)


@dataclass(frozen=True)
class IssuanceOutcome:
    result: IssueResult
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
    """Issuance: proof of the auth key (auth PIN), the My Number when the card-info PIN
    is given, then terminal.flows.issue_card (sign PIN, both certificates read and
    validated, symbols from the core, links written in one transaction)."""
    from terminal import flows
    from terminal.linkage import PersonRef

    _require_counter_parts(ctx)
    ctx.need_core("issuance (symbol core)")
    _check_pins(auth_pin, sign_pin, cardinfo_pin)
    with ctx.readers.session(reader_id, "issuance") as card:
        prove_auth_key(ctx, card, operator, auth_pin)
        my_number = None
        if cardinfo_pin is not None:
            card.progress("read-mynumber")
            info = CardInfoSession(card.channel)
            with naming_pin(PinKind.CARD_INFO):
                info.verify_pin(cardinfo_pin)
            my_number = info.read_my_number()
        card.progress("link")
        with naming_pin(PinKind.SIGN):  # the one PIN issue_card verifies
            outcome = flows.issue_card(
                card.channel,
                counter_context(ctx, operator),
                resident_code=resident_code,
                sign_pin=sign_pin,
                person=PersonRef(my_number=my_number if ctx.mynumber_index else None),
                request_id=request_id or secrets.token_hex(12),
            )
    person = ctx.need_registry().person(outcome.result.integrated_number)
    return IssuanceOutcome(outcome.result, my_number, person.symbols.get("portal"))


def renewal(
    ctx: ServiceContext,
    reader_id: str,
    operator: Operator,
    *,
    old_auth_serial: str,
    auth_pin: str,
    sign_pin: str,
    request_id: str | None,
) -> RenewResult:
    """Renewal: proof of the new card's auth key, then terminal.flows.renew_card (the
    new certificates validated and chained to the old ones)."""
    from terminal import flows

    _require_counter_parts(ctx)
    _check_pins(auth_pin, sign_pin, None)
    with ctx.readers.session(reader_id, "renewal") as card:
        prove_auth_key(ctx, card, operator, auth_pin)
        card.progress("link")
        with naming_pin(PinKind.SIGN):  # the one PIN renew_card verifies
            outcome = flows.renew_card(
                card.channel,
                counter_context(ctx, operator),
                old_auth_serial=old_auth_serial,
                sign_pin=sign_pin,
                request_id=request_id or secrets.token_hex(12),
            )
    return outcome.result


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
