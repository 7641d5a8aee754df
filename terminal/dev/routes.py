"""Dev/demo controls for software readers: insert a software card, pull it out.

Mounted only when the dev wing is plugged in (DevWing.routers); even then enabled only
with `simulator_controls` (dev mode, `mynaterm demo`), else NOT_FOUND as if absent."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from terminal.dev.slots import SoftwareSlot
from terminal.dev.wing import DevWing
from terminal.service.deps import AnyOperator, Ctx
from terminal.service.errors import ServiceError
from terminal.service.routers.readers import ReaderId, ReaderState

router = APIRouter(prefix="/api/simulator", tags=["simulator"])


class SimulatedCard(BaseModel):
    label: str
    in_reader: str | None


class InsertCard(BaseModel):
    card: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


def _enabled(ctx: Ctx) -> None:
    if not ctx.settings.simulator_controls:
        raise ServiceError("NOT_FOUND", "not found")


def _where(ctx: Ctx, card: object) -> str | None:
    for reader in ctx.readers.all():
        if isinstance(reader.slot, SoftwareSlot) and reader.slot.card is card:
            return reader.id
    return None


@router.get("/cards", response_model=list[SimulatedCard])
def list_cards(ctx: Ctx, _: AnyOperator) -> list[SimulatedCard]:
    _enabled(ctx)
    return [
        SimulatedCard(label=label, in_reader=_where(ctx, card))
        for label, card in sorted(DevWing.of(ctx).card_library.items())
    ]


@router.post("/readers/{reader_id}/insert", response_model=ReaderState)
def insert_card(reader_id: ReaderId, body: InsertCard, ctx: Ctx, _: AnyOperator) -> ReaderState:
    _enabled(ctx)
    card = DevWing.of(ctx).card_library.get(body.card)
    if card is None:
        raise ServiceError("NOT_FOUND", f"no software card {body.card!r}")
    reader = ctx.readers.get(reader_id)
    if reader.busy:
        raise ServiceError("READER_BUSY", "the reader is busy")
    elsewhere = _where(ctx, card)
    if elsewhere is not None and elsewhere != reader_id:
        ctx.readers.remove_software_card(elsewhere)  # one plastic card, one reader
    ctx.readers.insert_software_card(reader_id, card, label=body.card)
    return ReaderState(**reader.state())


@router.post("/readers/{reader_id}/remove", response_model=ReaderState)
def remove_card(reader_id: ReaderId, ctx: Ctx, _: AnyOperator) -> ReaderState:
    """Pulls the card even mid-operation: that operation fails with CARD_REMOVED."""
    _enabled(ctx)
    reader = ctx.readers.get(reader_id)
    ctx.readers.remove_software_card(reader_id)
    return ReaderState(**reader.state())
