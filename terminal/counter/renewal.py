"""Renewal (更新): a new card for a person already linked through an old auth serial.
The new card must be the same person's: its facts must match the register for the
person the old serial is linked to, asked by the municipality's own symbol of that
person (the terminal never holds the resident code)."""

from __future__ import annotations

from dataclasses import dataclass

from card.protocol import CardChannel
from terminal.audit.trail import Operation
from terminal.counter.cardread import CardPins, CardReading, read_card
from terminal.counter.context import CounterContext, Progress, no_progress
from terminal.counter.identity import IdentityVerdict, check_identity, require_match
from terminal.counter.issuance import require_face_to_face
from terminal.linkage.errors import NotLinked
from terminal.linkage.types import RenewResult


@dataclass(frozen=True)
class RenewalRequest:
    old_auth_serial: int | str
    pins: CardPins
    face_to_face_confirmed: bool
    old_issuer_key_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class RenewalOutcome:
    reading: CardReading
    verdict: IdentityVerdict
    result: RenewResult


def _own_symbol(ctx: CounterContext, old_auth_serial: int | str, issuer: str | None) -> str:
    """The municipality's own symbol of the person the old serial is linked to, before
    the card is touched (UNKNOWN_SERIAL otherwise)."""
    person = ctx.registry.person_by_serial(
        old_auth_serial, issuer_key_id=issuer, operator=ctx.operator
    )
    own_symbol = person.symbols.get(ctx.core.agency)
    if own_symbol is None:
        raise NotLinked(f"person {person.integrated_number} has no {ctx.core.agency} symbol")
    return own_symbol


def preview(
    channel: CardChannel,
    ctx: CounterContext,
    old_auth_serial: int | str,
    pins: CardPins,
    progress: Progress = no_progress,
    *,
    old_issuer_key_id: str | None = None,
) -> tuple[CardReading, IdentityVerdict]:
    """The renewal's identity check before the clerk confirms: is the new card the
    person's of the old serial? Links nothing; audited as an unconfirmed check."""
    from terminal.counter.identity import audit_identity_check

    pins.check_formats()
    own_symbol = _own_symbol(ctx, old_auth_serial, old_issuer_key_id)
    reading = read_card(channel, ctx, pins, progress)
    verdict = check_identity(ctx, reading, agency_symbol=own_symbol)
    audit_identity_check(ctx, reading, verdict, confirmed=False)
    return reading, verdict


def renew(
    channel: CardChannel,
    ctx: CounterContext,
    request: RenewalRequest,
    progress: Progress = no_progress,
) -> RenewalOutcome:
    require_face_to_face(request.face_to_face_confirmed)
    request.pins.check_formats()
    own_symbol = _own_symbol(ctx, request.old_auth_serial, request.old_issuer_key_id)
    reading = read_card(channel, ctx, request.pins, progress)
    progress("identity")
    verdict = check_identity(ctx, reading, agency_symbol=own_symbol)
    require_match(ctx, reading, verdict, Operation.RENEW)
    progress("link")
    result = ctx.registry.renew(
        request.old_auth_serial,
        reading.auth_info(),
        reading.sign_info(),
        ctx.operator,
        old_issuer_key_id=request.old_issuer_key_id,
        request_id=request.request_id,
    )
    return RenewalOutcome(reading, verdict, result)
