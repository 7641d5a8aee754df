"""Certificate validation: chain to the configured anchors, validity, revocation."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from terminal.service.deps import AnyOperator, Ctx
from terminal.service.errors import ServiceError
from terminal.service.routers.models import ERRORS
from terminal.service.routers.signing import Base64Text

router = APIRouter(tags=["certificates"], responses=ERRORS)


class ValidateIn(BaseModel):
    certificate: Base64Text = Field(description="DER certificate, base64")
    kind: Literal["auth", "sign", "auth-ca", "sign-ca"]
    at: datetime | None = Field(default=None, description="Instant of validation (default now)")


class ValidateOut(BaseModel):
    valid: bool
    serial: str
    subject: str
    kind: str
    not_before: datetime
    not_after: datetime
    anchor: str
    revocation_status: str
    revocation_source: str | None


@router.post("/api/certificates/validate", response_model=ValidateOut)
def validate(body: ValidateIn, ctx: Ctx, _: AnyOperator) -> ValidateOut:
    """Valid certificates get 200; every refusal is an error with its own code
    (CERT_REVOKED, CERT_EXPIRED, CERT_UNTRUSTED, REVOCATION_UNKNOWN, CERT_MALFORMED)."""
    validator = ctx.need_validator()
    if body.at is not None and body.at.tzinfo is None:
        raise ServiceError("VALIDATION_ERROR", "`at` needs a time zone")
    result = validator.validate(base64.b64decode(body.certificate), body.kind, at=body.at)
    return ValidateOut(
        valid=True,
        serial=str(result.serial),
        subject=result.subject,
        kind=str(result.kind.value),
        not_before=result.not_before,
        not_after=result.not_after,
        anchor=result.anchor,
        revocation_status=result.revocation.status,
        revocation_source=result.revocation.source,
    )
