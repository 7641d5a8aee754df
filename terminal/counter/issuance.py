"""Issuance (交付): a new card is linked to a resident only once it is shown to be
theirs. Order: the clerk's face-to-face confirmation and the PIN formats (no card
command before), the resident code at the core (malformed, wrong check digit or not on
the register: refused before any PIN is sent), the card read (auth-key proof, sign
certificate and/or card-info facts, validation), the identity match at the core, and
only then the links, in one registry transaction."""

from __future__ import annotations

from dataclasses import dataclass

from card.protocol import CardChannel
from terminal.audit.trail import Operation
from terminal.counter.cardread import CardPins, CardReading, read_card
from terminal.counter.context import CounterContext, Progress, no_progress
from terminal.counter.errors import FaceToFaceRequired
from terminal.counter.identity import IdentityVerdict, check_identity, require_match
from terminal.linkage.core_client import symbols_for_issuance
from terminal.linkage.types import IssueResult, PersonRef


@dataclass(frozen=True)
class IssuanceRequest:
    resident_code: str
    pins: CardPins
    face_to_face_confirmed: bool
    # A known person's integrated number (団体内統合宛名番号), to re-issue to them.
    integrated_number: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class IssuanceOutcome:
    reading: CardReading
    verdict: IdentityVerdict
    result: IssueResult
    portal_symbol: str | None


def require_face_to_face(confirmed: bool) -> None:
    if confirmed is not True:
        raise FaceToFaceRequired(
            "confirm the face-to-face verification (本人確認) of the holder before linking"
        )


def issue(
    channel: CardChannel,
    ctx: CounterContext,
    request: IssuanceRequest,
    progress: Progress = no_progress,
) -> IssuanceOutcome:
    require_face_to_face(request.face_to_face_confirmed)
    request.pins.check_formats()
    # The core refuses a malformed code, a wrong check digit or a code not on the
    # register before the card is touched.
    symbols = symbols_for_issuance(ctx.core, request.resident_code)
    reading = read_card(channel, ctx, request.pins, progress)
    progress("identity")
    verdict = check_identity(ctx, reading, resident_code=request.resident_code)
    require_match(ctx, reading, verdict, Operation.ISSUE)
    progress("link")
    my_number = reading.my_number if ctx.index_my_number else None
    result = ctx.registry.issue(
        PersonRef(integrated_number=request.integrated_number, my_number=my_number),
        reading.auth_info(),
        reading.sign_info(),
        symbols,
        ctx.operator,
        request_id=request.request_id,
    )
    return IssuanceOutcome(reading, verdict, result, symbols.get("portal"))


def preview(
    channel: CardChannel,
    ctx: CounterContext,
    resident_code: str,
    pins: CardPins,
    progress: Progress = no_progress,
) -> tuple[CardReading, IdentityVerdict]:
    """What the counter page shows before the clerk confirms: the card read and the
    register's verdict per field, audited as an unconfirmed check. Links nothing."""
    pins.check_formats()
    symbols_for_issuance(ctx.core, resident_code)  # same refusals as issuance
    reading = read_card(channel, ctx, pins, progress)
    verdict = check_identity(ctx, reading, resident_code=resident_code)
    from terminal.counter.identity import audit_identity_check

    audit_identity_check(ctx, reading, verdict, confirmed=False)
    return reading, verdict
