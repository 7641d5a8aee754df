"""Request/response bodies shared by several routers. PIN fields are SecretStr: they
never appear in a repr, a log line or a validation error."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr

# Bounds only; the exact format per PIN kind is checked by jpki.pin (PIN_FORMAT).
Pin = Annotated[SecretStr, Field(min_length=1, max_length=16)]
ReaderIdBody = Annotated[str, Field(pattern=r"^[0-9]{1,4}$")]
RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Serial = Annotated[str, Field(pattern=r"^[0-9]{1,49}$", description="Decimal serial")]
IntegratedNumber = Annotated[str, Field(pattern=r"^[0-9]{15}$")]


class CertificateRef(BaseModel):
    kind: str
    serial: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


# The shape APIRouter(responses=...) takes: status -> OpenAPI response fields.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse}
    for status in (401, 403, 404, 409, 422, 423, 500, 501, 502, 503)
}
