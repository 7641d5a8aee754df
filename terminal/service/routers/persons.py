"""Persons in the linkage registry. The registry never holds the My Number itself (only
a keyed index), so the number shown comes from the card: masked for clerks, in full for
officers, and every reveal is written to the audit trail before it is shown."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from terminal.linkage.types import PersonView
from terminal.service import cardwork
from terminal.service.deps import Clerk, Ctx, Officer
from terminal.service.errors import ServiceError
from terminal.service.routers.models import ERRORS, Pin, ReaderIdBody
from terminal.service.routers.readers import ReaderId

router = APIRouter(tags=["persons"], responses=ERRORS)

PersonId = Path(pattern=r"^[0-9]{15}$", description="Integrated number (団体内統合宛名番号)")


class CertificateOut(BaseModel):
    serial: str
    kind: str
    status: str
    card_id: str  # certificates of one card: what a whole-card revocation ends
    not_before: datetime
    not_after: datetime
    revoked_reason: str | None
    replaces_serial: str | None
    replaced_by_serial: str | None


class PersonOut(BaseModel):
    person_id: str
    symbols: dict[str, str]  # agency -> masked symbol
    has_mynumber_index: bool
    certificates: list[CertificateOut]


class RevealIn(BaseModel):
    reader_id: ReaderIdBody
    cardinfo_pin: Pin


class MyNumberOut(BaseModel):
    my_number: str
    masked: bool


class CardInfoPinIn(BaseModel):
    pin: Pin


def _person_out(view: PersonView) -> PersonOut:
    return PersonOut(
        person_id=view.integrated_number,
        symbols={k: cardwork.mask_symbol(v) for k, v in view.symbols.items()},
        has_mynumber_index=view.has_mynumber_index,
        certificates=[
            CertificateOut(
                serial=c.serial,
                kind=c.kind,
                status=c.status,
                card_id=c.card_id,
                not_before=c.not_before,
                not_after=c.not_after,
                revoked_reason=c.revoked_reason,
                replaces_serial=c.replaces_serial,
                replaced_by_serial=c.replaced_by_serial,
            )
            for c in view.certificates
        ],
    )


class LookupIn(BaseModel):
    """Exactly one of: the resident code (住民票コード, asked of the symbol core; the
    terminal keeps none), a certificate serial, the integrated number. A POST body, so
    a resident code never appears in a URL or an access log."""

    resident_code: str | None = Field(default=None, pattern=r"^[0-9]{11}$")
    serial: str | None = Field(default=None, pattern=r"^[0-9]{1,49}$")
    person_id: str | None = Field(default=None, pattern=r"^[0-9]{15}$")


@router.post("/api/persons/lookup", response_model=PersonOut)
def lookup_person(body: LookupIn, ctx: Ctx, operator: Clerk) -> PersonOut:
    """Find a person at the counter by resident code, certificate serial or integrated
    number (exactly one). Every lookup is audited; a resident code the register does
    not hold is UNKNOWN_RESIDENT, one with a wrong check digit RESIDENT_CODE_CHECK_DIGIT."""
    from terminal.counter import lookup

    given = [v for v in (body.resident_code, body.serial, body.person_id) if v is not None]
    if len(given) != 1:
        raise ServiceError(
            "VALIDATION_ERROR", "give exactly one of resident_code, serial and person_id"
        )
    registry = ctx.need_registry()
    who = cardwork.audit_operator(ctx, operator)
    if body.resident_code is not None:
        view = lookup.by_resident_code(
            ctx.need_core("lookup by resident code (symbol core)"),
            registry,
            who,
            body.resident_code,
        )
    elif body.serial is not None:
        view = lookup.by_serial(registry, who, body.serial)
    else:
        assert body.person_id is not None
        view = lookup.by_integrated_number(registry, who, body.person_id)
    return _person_out(view)


@router.get("/api/persons/{person_id}", response_model=PersonOut)
def get_person(ctx: Ctx, operator: Clerk, person_id: str = PersonId) -> PersonOut:
    """The person's links and symbols (masked). The lookup is audited."""
    view = ctx.need_registry().person(person_id, operator=cardwork.audit_operator(ctx, operator))
    return _person_out(view)


@router.post("/api/persons/{person_id}/reveal", response_model=MyNumberOut)
def reveal_my_number(
    body: RevealIn, ctx: Ctx, operator: Officer, person_id: str = PersonId
) -> MyNumberOut:
    """Officers only: the full My Number read from the person's card (card-info PIN),
    after checking it is this person's and recording the view in the audit trail."""
    registry = ctx.need_registry()
    ctx.need_mynumber_index()
    number = cardwork.read_my_number(ctx, body.reader_id, body.cardinfo_pin.get_secret_value())
    who = cardwork.audit_operator(ctx, operator)
    found = registry.person_by_mynumber(number, who)
    if found.integrated_number != person_id:
        raise ServiceError("MYNUMBER_MISMATCH", "the card in the reader is another person's")
    registry.audit.record_mynumber_view(who, person_id)
    return MyNumberOut(my_number=number.reveal(), masked=False)


@router.post("/api/readers/{reader_id}/mynumber", response_model=MyNumberOut)
def card_my_number(reader_id: ReaderId, body: CardInfoPinIn, ctx: Ctx, _: Clerk) -> MyNumberOut:
    """The My Number on the card, masked (last 4 digits) whoever asks: revealing it in
    full goes through /api/persons/{id}/reveal, which is audited."""
    number = cardwork.read_my_number(ctx, reader_id, body.pin.get_secret_value())
    return MyNumberOut(my_number=number.masked, masked=True)
