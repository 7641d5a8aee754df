"""Reader state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from terminal.service.deps import AnyOperator, Ctx

router = APIRouter(prefix="/api/readers", tags=["readers"])

ReaderId = Annotated[str, Path(pattern=r"^[0-9]{1,4}$", description="Reader id from /api/readers")]


class ReaderState(BaseModel):
    id: str
    name: str
    kind: str
    card_present: bool | None
    card_serial: int
    busy: bool
    operation: str | None
    step: str | None


@router.get("", response_model=list[ReaderState])
def list_readers(ctx: Ctx, operator: AnyOperator) -> list[ReaderState]:
    readers = ctx.readers.all()
    if operator.kiosk_only and operator.reader is not None:
        readers = [reader for reader in readers if reader.name == operator.reader]
    return [ReaderState(**reader.state()) for reader in readers]


@router.get("/{reader_id}", response_model=ReaderState)
def get_reader(reader_id: ReaderId, ctx: Ctx, _: AnyOperator) -> ReaderState:
    return ReaderState(**ctx.readers.get(reader_id).state())
