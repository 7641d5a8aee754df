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


def renew(
    channel: CardChannel,
    ctx: CounterContext,
    request: RenewalRequest,
    progress: Progress = no_progress,
) -> RenewalOutcome:
    require_face_to_face(request.face_to_face_confirmed)
    request.pins.check_formats()
    # The old serial's person, before the card is touched (UNKNOWN_SERIAL otherwise).
    person = ctx.registry.person_by_serial(
        request.old_auth_serial, issuer_key_id=request.old_issuer_key_id, operator=ctx.operator
    )
    own_symbol = person.symbols.get(ctx.core.agency)
    if own_symbol is None:
        raise NotLinked(f"person {person.integrated_number} has no {ctx.core.agency} symbol")
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
