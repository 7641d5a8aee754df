"""Reading a new card at the counter: the auth-key proof, the certificates and the
holder's identity facts, with each PIN sent at most once.

Order on the card: the JPKI applet first (auth PIN -> the card signs a fresh challenge;
sign PIN -> the signature certificate with the basic 4 facts), then the card-info applet
(card-info PIN -> basic 4 facts and My Number, checked against the card's integrity
record). Every PIN's format is checked before the first command, so a PIN that cannot
be right spends no try. Validation (chain, revocation) runs on what was read."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from card.errors import CardError, InvalidPinError, PinBlockedError
from card.protocol import CardChannel
from jpki.auth import AuthToken, Challenge, create_auth_token
from jpki.basic_facts import BasicFourFromCert, basic_four_from_certificate
from jpki.cardinfo_ap import BasicFour, CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.errors import PinFormatError
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.pin import encode_pin
from jpki.signer import JpkiCardSigner
from jpki.validation import ValidationResult
from terminal.counter.context import CounterContext, Progress, no_progress
from terminal.counter.errors import CardMismatch, IdentityFactsRequired
from terminal.linkage.types import CertInfo


@contextmanager
def naming_pin(kind: PinKind) -> Iterator[None]:
    """A PIN error raised inside carries `pin` (auth, sign, cardinfo), so a caller with
    several PINs can say which one was wrong, blocked or badly formed."""
    try:
        yield
    except (InvalidPinError, PinBlockedError, PinFormatError) as exc:
        if getattr(exc, "pin", None) is None:
            setattr(exc, "pin", kind.value)  # noqa: B010 - a field for the error body
        raise


@dataclass(frozen=True)
class CardPins:
    """The holder's PINs for one counter operation. `sign` is None for a card without a
    signature certificate (holders under 15); `cardinfo` None when not given."""

    auth: str
    sign: str | None = None
    cardinfo: str | None = None

    def __repr__(self) -> str:  # PINs never reach a log or a traceback
        given = [k for k in ("auth", "sign", "cardinfo") if getattr(self, k) is not None]
        return f"CardPins(<{', '.join(given)} redacted>)"

    def check_formats(self) -> None:
        """PinFormatError before any card command; IDENTITY_FACTS_REQUIRED when neither
        the sign nor the card-info PIN is given."""
        with naming_pin(PinKind.AUTH):
            encode_pin(PinKind.AUTH, self.auth)
        if self.sign is not None:
            with naming_pin(PinKind.SIGN):
                encode_pin(PinKind.SIGN, self.sign)
        if self.cardinfo is not None:
            with naming_pin(PinKind.CARD_INFO):
                encode_pin(PinKind.CARD_INFO, self.cardinfo)
        if self.sign is None and self.cardinfo is None:
            raise IdentityFactsRequired(
                "give the sign PIN (signature certificate) or, for a card without one, "
                "the card-info PIN: the card's holder must be compared with the register"
            )


@dataclass(frozen=True)
class CardFacts:
    """The holder as one source on the card states it (values as read; never logged)."""

    source: str  # "sign_certificate" | "card_info"
    name: str
    birth_date: dt.date
    sex: str
    address: str
    my_number: MyNumber | None = None

    def __repr__(self) -> str:
        return f"CardFacts({self.source}, <personal data>)"

    def for_core(self) -> dict[str, str | None]:
        """The mapping the symbol core's match operation takes."""
        return {
            "name": self.name,
            "birth_date": self.birth_date.strftime("%Y%m%d"),
            "sex": self.sex,
            "address": self.address,
            "my_number": self.my_number.reveal() if self.my_number is not None else None,
        }

    @classmethod
    def from_certificate(cls, facts: BasicFourFromCert) -> CardFacts:
        try:
            birth = dt.datetime.strptime(facts.birth_date, "%Y%m%d").date()
        except ValueError as exc:
            from jpki.basic_facts import CertInfoError

            raise CertInfoError("the certified birth date is not YYYYMMDD") from exc
        return cls("sign_certificate", facts.name, birth, facts.sex, facts.address)

    @classmethod
    def from_card_info(cls, facts: BasicFour, my_number: MyNumber) -> CardFacts:
        return cls("card_info", facts.name, facts.birth_date, facts.sex, facts.address, my_number)


@dataclass(frozen=True)
class CardReading:
    """A counter card read: certificates validated, the auth key proven, the holder's
    facts from each source that was unlocked."""

    auth_certificate: bytes
    sign_certificate: bytes | None
    auth: ValidationResult
    sign: ValidationResult | None
    facts: tuple[CardFacts, ...]

    @property
    def my_number(self) -> MyNumber | None:
        for facts in self.facts:
            if facts.my_number is not None:
                return facts.my_number
        return None

    @property
    def holder(self) -> CardFacts:
        """What the card says about its holder, for the clerk: the card-info facts
        (printed on the card) when read, else the signature certificate's."""
        by_source = {f.source: f for f in self.facts}
        return by_source.get("card_info") or by_source["sign_certificate"]

    def auth_info(self) -> CertInfo:
        return CertInfo.from_der(self.auth_certificate)

    def sign_info(self) -> CertInfo | None:
        return CertInfo.from_der(self.sign_certificate) if self.sign_certificate else None


def read_card(
    channel: CardChannel, ctx: CounterContext, pins: CardPins, progress: Progress = no_progress
) -> CardReading:
    """Requires the auth PIN and at least one of the sign and card-info PINs (see
    `CardPins.check_formats`)."""
    pins.check_formats()
    jpki = JpkiSession(channel)
    try:
        auth_der, sign_der, token, challenge, facts = _read(channel, jpki, ctx, pins, progress)
    finally:
        # The card leaves the counter with no PIN verified, whatever happened.
        with contextlib.suppress(CardError):
            jpki.logout()
    progress("validate")
    proof = ctx.token_validator.validate(
        token.to_json(), ctx.session_id, challenge.nonce, now=ctx.clock()
    )
    if proof.certificate != auth_der:
        raise CardMismatch("the card proved another auth key than its auth certificate's")
    at = ctx.clock()
    auth = ctx.validator.validate(auth_der, CertKind.AUTH, at=at)
    sign = ctx.validator.validate(sign_der, CertKind.SIGN, at=at) if sign_der else None
    if sign_der is not None:
        facts.insert(0, CardFacts.from_certificate(basic_four_from_certificate(sign_der)))
    return CardReading(auth_der, sign_der, auth, sign, tuple(facts))


def _read(
    channel: CardChannel,
    jpki: JpkiSession,
    ctx: CounterContext,
    pins: CardPins,
    progress: Progress,
) -> tuple[bytes, bytes | None, AuthToken, Challenge, list[CardFacts]]:
    auth_der = jpki.read_certificate(CertKind.AUTH)
    # The proof of the auth key: the card signs a fresh challenge bound to this counter
    # session, validated like a login token (chain, revocation, signature).
    challenge = ctx.challenges.issue(ctx.session_id, ctx.origin, now=ctx.clock())
    progress("verify-pin")
    with naming_pin(PinKind.AUTH):
        jpki.verify_pin(PinKind.AUTH, pins.auth)
    progress("sign")
    token = create_auth_token(JpkiCardSigner(jpki, KeyKind.AUTH), ctx.origin, challenge.nonce)
    sign_der: bytes | None = None
    if pins.sign is not None:
        progress("read-sign-certificate")
        with naming_pin(PinKind.SIGN):
            jpki.verify_pin(PinKind.SIGN, pins.sign)
        sign_der = jpki.read_certificate(CertKind.SIGN)
    facts: list[CardFacts] = []
    if pins.cardinfo is not None:
        progress("read-card-info")
        info = CardInfoSession(channel)
        with naming_pin(PinKind.CARD_INFO):
            info.verify_pin(pins.cardinfo)
        my_number = info.read_my_number()
        basic_four = info.read_basic_four()
        info.check_integrity()  # the facts are the ones the card was personalised with
        facts.append(CardFacts.from_card_info(basic_four, my_number))
    return auth_der, sign_der, token, challenge, facts
