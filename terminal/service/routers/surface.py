"""The card face (券面事項確認 AP) for face-to-face verification at the counter: the
clerk or officer has the holder type 照合番号A or B (or enters it from the card), the
service reads the face, checks its signature against the card issuer keys it holds,
and returns the photo (PNG), the name and address images and the verdict.

Every read is written to the audit trail before anything is returned, refused reads
too. The 照合番号 is used once for VERIFY and never stored or logged."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from jpki.codes import check_code_a, check_code_b
from jpki.constants import PinKind
from terminal.cardface import read_surface
from terminal.service import cardwork
from terminal.service.deps import Ctx, require
from terminal.service.errors import to_service_error
from terminal.service.routers.readers import ReaderId
from terminal.service.security import SignedInOperator
from terminal.service.settings import Role

router = APIRouter(prefix="/api/readers", tags=["card"])
ClerkOrOfficer = Annotated[SignedInOperator, Depends(require(Role.CLERK, Role.OFFICER))]
AUDIT_OPERATION = "card_surface.read"


class SurfaceIn(BaseModel):
    credential: Literal["A", "B"] = "B"
    code: str = Field(min_length=1, max_length=32, repr=False)


class SurfaceOut(BaseModel):
    birth_date: str
    sex: str
    sex_text: str
    expiry: str
    signature: Literal["valid", "not-checked"]
    issuer: str | None
    photo_png: str  # data: URL
    name_png: str
    address_png: str
    photo_width: int
    photo_height: int


def _audit(ctx: Ctx, operator: SignedInOperator, result: str) -> None:
    from terminal.audit.trail import Subject

    ctx.need_audit("card-surface reads (audit trail)").record_now(
        operator=cardwork.audit_operator(ctx, operator),
        operation=AUDIT_OPERATION,
        subject=Subject.none(),
        result=result,
    )


@router.post("/{reader_id}/surface", response_model=SurfaceOut)
def card_surface(
    reader_id: ReaderId, body: SurfaceIn, ctx: Ctx, operator: ClerkOrOfficer
) -> SurfaceOut:
    """Read and check the card face. PIN_FORMAT before the card is touched; wrong code:
    PIN_INCORRECT with the tries left; a face whose signature does not verify:
    CARD_SIGNATURE_INVALID (refused, nothing shown)."""
    ctx.need_audit("card-surface reads (audit trail)")
    if body.credential == "A":
        check_code_a(body.code, PinKind.SURFACE_CODE_A)
    else:
        check_code_b(body.code, PinKind.SURFACE_CODE_B)
    try:
        with ctx.readers.session(reader_id, "read-surface") as card:
            card.progress("read-surface")
            reading = read_surface(card.channel, body.credential, body.code, ctx.card_issuer_keys)
    except Exception as exc:
        mapped = to_service_error(exc)
        _audit(ctx, operator, f"refused:{mapped.code if mapped else 'INTERNAL_ERROR'}")
        raise
    _audit(ctx, operator, f"shown:{reading.verdict}")
    summary = reading.summary()
    urls = reading.data_urls()
    return SurfaceOut(
        birth_date=str(summary["birth_date"]),
        sex=str(summary["sex"]),
        sex_text=str(summary["sex_text"]),
        expiry=str(summary["expiry"]),
        signature=reading.verdict,
        issuer=reading.issuer,
        photo_png=urls["photo"],
        name_png=urls["name"],
        address_png=urls["address"],
        photo_width=reading.photo_size[0],
        photo_height=reading.photo_size[1],
    )
