"""The card's life at the counter (issue 15), part of the counter's use-case layer
(terminal.counter, issue 10) for the CLI and the service: initial PIN setting at
issuance, PIN reset for a locked or forgotten PIN, certificate renewal on the same card
(auth, sign or both), a new sign certificate after a move, and the reconciliation that
completes an operation a pulled card interrupted.

Each flow needs an authenticated operator (the caller's Operator) and a clerk's explicit
face-to-face identity confirmation (本人確認), and runs the identity binding before it
touches the card's admin side: the card's auth certificate (free to read) must have been
issued to the resident the clerk names (`IdentityBinding`; by default the issuing
authority's own record, which J-LIS keeps for every certificate it issues).

The card's admin commands are a MODEL of the real issuer channel (jpki/admin_protocol.py).

Atomicity of a renewal. The card swaps keys and certificates in one ACTIVATE (all old or
all new, jpki/issuance.py); the registry commits only after the card confirmed it, in
one transaction and one audited operation; the old certificates are revoked at the
authority after that. A card pulled at any APDU therefore leaves the card and the
registry either both old, or (pulled after ACTIVATE ran but before its answer arrived)
the card new and the registry old. `reconcile` (run at the start of every counter flow,
i.e. on the card's next insertion, and on its own) reads the card's live keys and
completes the registry and the authority: a card holding the new keys gets the chain
committed and the old serials revoked; certificates the authority issued that never
became live are revoked as unused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cryptography import x509

from card.protocol import CardChannel
from jpki.basic_facts import basic_four_if_present
from jpki.constants import Aid, CertKind, KeyKind, PinKind
from jpki.issuance import GeneratedKey, IssuerSession, replace_keys
from jpki.jpki_ap import JpkiSession
from jpki.pin import encode_pin
from jpki.validation import CertificateValidator
from terminal.audit.trail import Operation, Operator, Subject
from terminal.counter.cardread import CardPins, read_card
from terminal.counter.context import CounterContext
from terminal.counter.errors import CardMismatch, FaceToFaceRequired, IdentityMismatch
from terminal.counter.identity import check_identity, require_match
from terminal.linkage.errors import LinkageError, NotLinked, UnknownSerial
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.types import CertificateView, CertInfo, CertStatus, RenewResult

Clock = Callable[[], dt.datetime]
RevocationEvent = Literal["renewal", "move", "unused"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CardLifeError(LinkageError):
    """A refusal of a card-life flow (a LinkageError, so the service and the CLI map
    its code like the registry's). FACE_TO_FACE_REQUIRED and IDENTITY_MISMATCH are the
    counter's own (terminal.counter.errors)."""

    code = "CARD_LIFE_ERROR"


class NoSignCertificate(CardLifeError):
    """A sign certificate was asked for on a card that has none (holders under 15)."""

    code = "NO_SIGN_CERTIFICATE"


class IssuerRefused(CardLifeError):
    """The issuing authority refused (unknown holder, failed proof of possession)."""

    code = "ISSUER_REFUSED"


class IssuingAuthority(Protocol):
    """The issuing side the counter works with (J-LIS in production; the test PKI in
    the dev wing). Holds the issuer key; the counter never does."""

    def answer_challenge(self, challenge: bytes) -> bytes:
        """EXTERNAL AUTHENTICATE's data for a card's challenge."""
        ...

    def pop_nonce(self) -> bytes: ...

    def certify(self, generated: GeneratedKey, *, resident_code: str, replaces: int) -> bytes:
        """A certificate (DER) for the card-generated key, for the resident as the
        register has them now, replacing certificate `replaces`. IssuerRefused."""
        ...

    def holder_matches(self, serial: int, resident_code: str) -> bool:
        """Was certificate `serial` issued to this resident?"""
        ...

    def certificate(self, serial: int) -> bytes | None: ...

    def predecessor(self, serial: int) -> int | None:
        """The certificate `serial` replaced ON THE SAME CARD, if any."""
        ...

    def successors(self, serial: int) -> list[bytes]:
        """Unrevoked certificates (DER) issued to replace `serial` on the same card."""
        ...

    def revoke(self, serial: int, event: RevocationEvent) -> bool:
        """Revoke; False (and nothing changed) for a certificate already revoked."""
        ...


class IdentityBinding(Protocol):
    """The identity check a counter flow runs before it changes the card (issue 10's
    binding plugs in here)."""

    def check(self, auth_certificate: bytes, resident_code: str) -> None:
        """IdentityMismatch unless the card belongs to the resident."""
        ...


@dataclass(frozen=True)
class AuthorityIdentityBinding:
    """The card's auth certificate was issued to the resident: the issuing authority's
    record (新旧シリアル番号 and holder are what J-LIS answers for its certificates)."""

    authority: IssuingAuthority

    def check(self, auth_certificate: bytes, resident_code: str) -> None:
        serial = x509.load_der_x509_certificate(auth_certificate).serial_number
        if not self.authority.holder_matches(serial, resident_code):
            # The field named is the source that disagreed, never a value.
            raise IdentityMismatch(["issuing_authority_record"])


@dataclass(frozen=True)
class RegisterIdentityBinding:
    """Issue 10's register match as well, when the holder can give PINs (a renewal on
    the card, a new sign certificate after a move): the card is read with the holder's
    PINs (auth-key proof, the signature certificate's or the card-info applet's facts),
    the facts must match the register for the resident code, and the authority's record
    must name the same resident. Not usable for a locked or not-yet-set PIN."""

    channel: CardChannel
    counter: CounterContext
    pins: CardPins
    authority: IssuingAuthority

    def check(self, auth_certificate: bytes, resident_code: str) -> None:
        AuthorityIdentityBinding(self.authority).check(auth_certificate, resident_code)
        reading = read_card(self.channel, self.counter, self.pins)
        if reading.auth_certificate != auth_certificate:
            raise CardMismatch("the card read with the PINs is not the card being renewed")
        verdict = check_identity(self.counter, reading, resident_code=resident_code)
        require_match(self.counter, reading, verdict, Operation.RENEW_ON_CARD)


@dataclass
class CardLifeContext:
    validator: CertificateValidator
    registry: LinkageRegistry
    authority: IssuingAuthority
    operator: Operator
    identity: IdentityBinding | None = None
    clock: Clock = field(default=_utc_now)

    def binding(self) -> IdentityBinding:
        return self.identity or AuthorityIdentityBinding(self.authority)


def _serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


def _require_confirmation(face_to_face_confirmed: bool) -> None:
    if not face_to_face_confirmed:
        raise FaceToFaceRequired("confirm the holder's identity face to face first (本人確認)")


def _read_checked_auth(channel: CardChannel, ctx: CardLifeContext, resident_code: str) -> bytes:
    """The card's auth certificate, validated (chain, revocation), and bound to the
    resident. Spends no PIN."""
    der = JpkiSession(channel).read_certificate(CertKind.AUTH)
    ctx.validator.validate(der, CertKind.AUTH, at=ctx.clock())
    ctx.binding().check(der, resident_code)
    return der


def _audit(ctx: CardLifeContext, operation: Operation, serial: int, issuer: str | None) -> None:
    ctx.registry.audit.record_now(
        operator=ctx.operator,
        operation=operation,
        subject=Subject.certificate(issuer, serial),
        result="ok",
    )


# ---- PIN setting at issuance ---------------------------------------------------------


@dataclass(frozen=True)
class PinSetOutcome:
    auth_serial: str
    set: tuple[str, ...]
    already_set: tuple[str, ...]


def set_pins(
    channel: CardChannel,
    ctx: CardLifeContext,
    *,
    resident_code: str,
    pins: Mapping[PinKind, str],
    face_to_face_confirmed: bool,
) -> PinSetOutcome:
    """Set the PINs of a new card (暗証番号の設定) that the holder typed (twice: the
    caller confirms with jpki.issuance.confirm_new_pin). PINs set already are left as
    they are and reported (an interrupted setting is completed by running it again)."""
    _require_confirmation(face_to_face_confirmed)
    for kind, pin in pins.items():
        encode_pin(kind, pin)  # every format checked before the card is touched
    if not pins:
        raise ValueError("no PIN to set")
    auth = _read_checked_auth(channel, ctx, resident_code)
    done: list[str] = []
    skipped: list[str] = []
    for applet in (Aid.JPKI, Aid.CARD_INFO):
        kinds = [kind for kind in pins if kind.aid is applet]
        if not kinds:
            continue
        session = IssuerSession(channel, applet, ctx.authority.answer_challenge)
        for kind in kinds:
            if session.pin_status(kind).is_set:
                skipped.append(kind.value)
                continue
            session.set_pin(kind, pins[kind])
            done.append(kind.value)
    _audit(ctx, Operation.CARD_PIN_SET, _serial(auth), None)
    return PinSetOutcome(str(_serial(auth)), tuple(done), tuple(skipped))


# ---- PIN reset -----------------------------------------------------------------------


@dataclass(frozen=True)
class PinResetOutcome:
    auth_serial: str
    kind: str
    new_value: bool
    remaining: int


def reset_pin(
    channel: CardChannel,
    ctx: CardLifeContext,
    *,
    resident_code: str,
    kind: PinKind,
    new_pin: str | None,
    face_to_face_confirmed: bool,
) -> PinResetOutcome:
    """暗証番号の再設定・ロック解除: a new value and a full retry counter (`new_pin`),
    or (None) only the counter for a holder who still knows the PIN."""
    _require_confirmation(face_to_face_confirmed)
    if new_pin is not None:
        encode_pin(kind, new_pin)
    auth = _read_checked_auth(channel, ctx, resident_code)
    session = IssuerSession(channel, kind.aid, ctx.authority.answer_challenge)
    session.reset_pin(kind, new_pin)
    remaining = session.pin_status(kind).remaining
    _audit(ctx, Operation.CARD_PIN_RESET, _serial(auth), None)
    return PinResetOutcome(str(_serial(auth)), kind.value, new_pin is not None, remaining or 0)


# ---- renewal on the same card --------------------------------------------------------


@dataclass(frozen=True)
class RenewOnCardOutcome:
    result: RenewResult
    move: bool
    reconciled: ReconcileOutcome | None


class _Certifier:
    """jpki.issuance.KeyCertifier over the authority, for one resident and card; the
    new certificate is validated before it is written to the card."""

    def __init__(
        self,
        ctx: CardLifeContext,
        resident_code: str,
        replaces: Mapping[KeyKind, int],
    ) -> None:
        self.ctx = ctx
        self.resident_code = resident_code
        self.replaces = replaces

    def nonce(self) -> bytes:
        return self.ctx.authority.pop_nonce()

    def certify(self, generated: GeneratedKey) -> bytes:
        der = self.ctx.authority.certify(
            generated, resident_code=self.resident_code, replaces=self.replaces[generated.kind]
        )
        self.ctx.validator.validate(der, CertKind(generated.kind.value), at=self.ctx.clock())
        return der


def _card_certificates(ctx: CardLifeContext, auth_serial: int) -> dict[str, int]:
    """The active certificates of the card the auth serial belongs to, by kind."""
    return {cert.kind: int(cert.serial) for cert in _card_views(ctx, auth_serial)}


def renewal_kinds(*, auth: bool, sign: bool, move: bool) -> list[KeyKind]:
    """The keys a renewal on the card asks for: the sign key alone after a move, else
    those the clerk ticked (empty: nothing to renew, the caller refuses it)."""
    if move:
        return [KeyKind.SIGN]
    return [kind for kind, on in ((KeyKind.AUTH, auth), (KeyKind.SIGN, sign)) if on]


def renew_on_card(
    channel: CardChannel,
    ctx: CardLifeContext,
    *,
    resident_code: str,
    kinds: Iterable[KeyKind],
    face_to_face_confirmed: bool,
    move: bool = False,
) -> RenewOnCardOutcome:
    """電子証明書の更新 on the same card: new keys generated on the card, certified for
    the resident, written and activated at once; then the registry chains the old
    serials to the new ones (one transaction, audited) and the old certificates are
    revoked (superseded; after a `move`, the sign certificate for the changed address).
    The portal symbol stays the person's."""
    _require_confirmation(face_to_face_confirmed)
    wanted = list(dict.fromkeys(kinds))
    if move and wanted != [KeyKind.SIGN]:
        raise ValueError("a move gives a new sign certificate only")
    if not wanted:
        raise ValueError("no certificate to renew")
    reconciled = reconcile(channel, ctx)
    auth = _read_checked_auth(channel, ctx, resident_code)
    auth_serial = _serial(auth)
    current = _card_certificates(ctx, auth_serial)
    if current.get(CertKind.AUTH.value) != auth_serial:
        raise NotLinked(f"the card's auth certificate {auth_serial} is not active here")
    if KeyKind.SIGN in wanted and CertKind.SIGN.value not in current:
        raise NoSignCertificate("this card has no sign certificate to renew")
    replaces = {KeyKind(kind): serial for kind, serial in current.items()}
    session = IssuerSession(channel, Aid.JPKI, ctx.authority.answer_challenge)
    new = replace_keys(session, wanted, _Certifier(ctx, resident_code, replaces))
    # The card confirmed ACTIVATE: it holds the new keys. Now, and only now, the registry.
    result = ctx.registry.renew_on_card(
        auth_serial,
        CertInfo.from_der(new[KeyKind.AUTH]) if KeyKind.AUTH in new else None,
        CertInfo.from_der(new[KeyKind.SIGN]) if KeyKind.SIGN in new else None,
        ctx.operator,
        move=move,
    )
    for kind in new:
        ctx.authority.revoke(replaces[kind], "move" if move else "renewal")
    return RenewOnCardOutcome(result, move, reconciled if reconciled.changed else None)


# ---- reconciliation ------------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileOutcome:
    committed: RenewResult | None
    revoked_unused: tuple[str, ...]
    revoked_replaced: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.committed or self.revoked_unused or self.revoked_replaced)


def _public_numbers(der: bytes) -> object:
    return x509.load_der_x509_certificate(der).public_key().public_numbers()  # type: ignore[union-attr]


def _facts_changed(old_der: bytes | None, new_der: bytes) -> bool:
    if old_der is None:
        return False
    old, new = basic_four_if_present(old_der), basic_four_if_present(new_der)
    return old is not None and new is not None and old != new


def _registry_view(ctx: CardLifeContext, serial: int) -> CertificateView | None:
    try:
        return ctx.registry.certificate(serial)
    except (UnknownSerial, NotLinked):
        return None


def reconcile(channel: CardChannel, ctx: CardLifeContext) -> ReconcileOutcome:
    """Bring the registry and the authority in line with the card's live keys (see the
    module docstring). Safe to run any time; with nothing to do it changes nothing and
    writes nothing. Only replacements on the same card count (the authority's
    `successors` and `predecessor` stay within one card)."""
    auth_serial = _serial(JpkiSession(channel).read_certificate(CertKind.AUTH))
    known = _registry_view(ctx, auth_serial)
    if known is None:
        previous = ctx.authority.predecessor(auth_serial)
        if previous is None or _registry_view(ctx, previous) is None:
            return ReconcileOutcome(None, (), ())  # a card this registry does not know
        registry_auth = previous  # renewed on the card, perhaps not yet in the registry
    else:
        registry_auth = auth_serial
    current = _card_certificates(ctx, registry_auth)
    if current.get(CertKind.AUTH.value) != registry_auth:
        return ReconcileOutcome(None, (), ())  # a replaced card: nothing to repair
    session = IssuerSession(channel, Aid.JPKI, ctx.authority.answer_challenge)
    live = {kind: session.live_public_key(kind).public_numbers() for kind in KeyKind}
    new_certs: dict[KeyKind, bytes] = {}
    unused: list[str] = []
    for kind in KeyKind:
        old_serial = current.get(kind.value)
        if old_serial is None:
            continue
        for candidate in ctx.authority.successors(old_serial):
            if _public_numbers(candidate) == live[kind]:
                new_certs[kind] = candidate
            elif ctx.authority.revoke(_serial(candidate), "unused"):
                unused.append(str(_serial(candidate)))
    committed: RenewResult | None = None
    if new_certs:
        sign_der = new_certs.get(KeyKind.SIGN)
        old_sign = current.get(CertKind.SIGN.value)
        move = (
            KeyKind.AUTH not in new_certs
            and sign_der is not None
            and old_sign is not None
            and _facts_changed(ctx.authority.certificate(old_sign), sign_der)
        )
        committed = ctx.registry.renew_on_card(
            registry_auth,
            CertInfo.from_der(new_certs[KeyKind.AUTH]) if KeyKind.AUTH in new_certs else None,
            CertInfo.from_der(sign_der) if sign_der is not None else None,
            ctx.operator,
            move=move,
        )
    # What the registry says each live certificate replaced must be revoked at the
    # authority too (a crash between the registry commit and the revocation).
    replaced: list[str] = []
    for cert in _card_views(
        ctx, auth_serial if committed is None else int(committed.new_auth_serial)
    ):
        if cert.replaces_serial is None:
            continue
        old = _registry_view(ctx, int(cert.replaces_serial))
        event: RevocationEvent = (
            "move" if old is not None and old.revoked_reason == "basic_facts_changed" else "renewal"
        )
        if ctx.authority.revoke(int(cert.replaces_serial), event):
            replaced.append(cert.replaces_serial)
    outcome = ReconcileOutcome(committed, tuple(unused), tuple(replaced))
    if outcome.changed:
        _audit(ctx, Operation.CARD_RECONCILE, auth_serial, None)
    return outcome


def _card_views(ctx: CardLifeContext, auth_serial: int) -> list[CertificateView]:
    view = _registry_view(ctx, auth_serial)
    if view is None:
        return []
    person = ctx.registry.person(view.integrated_number)
    return [
        cert
        for cert in person.certificates
        if cert.card_id == view.card_id and cert.status == CertStatus.ACTIVE
    ]
