"""The hash-chained audit trail: read and verify (officers and admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from terminal.service.deps import Auditor, Ctx
from terminal.service.routers.models import ERRORS

if TYPE_CHECKING:
    from terminal.audit.trail import AuditEntry

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=ERRORS)


class AuditEntryOut(BaseModel):
    seq: int
    recorded_at: str
    operator_id: str
    terminal_id: str
    operation: str
    subject_kind: str
    subject_ref: str
    result: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    details: dict[str, object]


@router.get("", response_model=list[AuditEntryOut])
def list_audit(
    ctx: Ctx,
    _: Auditor,
    since_seq: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryOut]:
    entries = ctx.need_audit().list(since_seq=since_seq, limit=limit)
    return [AuditEntryOut.model_validate(_entry_fields(entry)) for entry in entries]


@router.get("/verify", response_model=VerifyOut)
def verify_audit(ctx: Ctx, _: Auditor) -> VerifyOut:
    report = ctx.need_audit().verify().as_dict()
    return VerifyOut(ok=bool(report.get("ok")), details=report)


def _entry_fields(entry: AuditEntry) -> dict[str, object]:
    data = entry.as_dict()
    return {name: data.get(name) for name in AuditEntryOut.model_fields}
