"""The hash-chained audit trail: read and verify (officers and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from terminal.service.deps import Auditor, Ctx, require_component
from terminal.service.routers.models import ERRORS

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=ERRORS)  # type: ignore[arg-type]


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
    require_component(ctx.audit, "the audit trail")
    assert ctx.audit is not None
    entries = ctx.audit.list(since_seq=since_seq, limit=limit)
    return [AuditEntryOut.model_validate(_entry_fields(entry)) for entry in entries]


@router.get("/verify", response_model=VerifyOut)
def verify_audit(ctx: Ctx, _: Auditor) -> VerifyOut:
    require_component(ctx.audit, "the audit trail")
    assert ctx.audit is not None
    report = ctx.audit.verify().as_dict()
    return VerifyOut(ok=bool(report.get("ok")), details=report)


def _entry_fields(entry: object) -> dict[str, object]:
    data = entry.as_dict()  # type: ignore[attr-defined]
    return {name: data.get(name) for name in AuditEntryOut.model_fields}
