"""Document signatures with the card's signature key (CAdES-BES, detached) and their
verification (integrity, signer certificate chain and revocation)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field

from terminal.service import cardwork
from terminal.service.deps import AnyOperator, Clerk, Ctx
from terminal.service.routers.models import ERRORS, Pin
from terminal.service.routers.readers import ReaderId

router = APIRouter(tags=["signatures"], responses=ERRORS)

MAX_DOCUMENT = 1024 * 1024


def _base64(text: str) -> str:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not valid base64") from exc
    return text


Base64Text = Annotated[
    str, Field(min_length=1, max_length=MAX_DOCUMENT * 4 // 3 + 4), AfterValidator(_base64)
]


class SignIn(BaseModel):
    pin: Pin
    content: Base64Text = Field(description="The document, base64")


class SignOut(BaseModel):
    signature: str = Field(description="DER CMS SignedData (detached), base64")


class VerifyIn(BaseModel):
    content: Base64Text
    signature: Base64Text


class VerifyOut(BaseModel):
    valid: bool
    serial: str
    subject: str
    hash_name: str
    signing_time: datetime | None
    validated_at: datetime


@router.post("/api/readers/{reader_id}/sign", response_model=SignOut)
def sign(reader_id: ReaderId, body: SignIn, ctx: Ctx, _: Clerk) -> SignOut:
    """The holder's sign PIN unlocks the signature key once; the card signs."""
    signature = cardwork.sign_document(
        ctx, reader_id, body.pin.get_secret_value(), base64.b64decode(body.content)
    )
    return SignOut(signature=base64.b64encode(signature).decode("ascii"))


@router.post("/api/verify", response_model=VerifyOut)
def verify(body: VerifyIn, ctx: Ctx, _: AnyOperator) -> VerifyOut:
    from jpki.cms import verify_cms

    validator = ctx.need_validator()
    result = verify_cms(base64.b64decode(body.content), base64.b64decode(body.signature), validator)
    return VerifyOut(
        valid=True,
        serial=str(result.serial),
        subject=result.subject,
        hash_name=result.hash_name,
        signing_time=result.signing_time,
        validated_at=result.validated_at,
    )
