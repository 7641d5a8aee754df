"""Counter operations (交付窓口): the identity check, issuance, renewal, revocation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from terminal.counter import (
    CardPins,
    CardReading,
    IdentityVerdict,
    IssuanceRequest,
    RenewalRequest,
)
from terminal.service import cardwork
from terminal.service.deps import Clerk, Ctx
from terminal.service.routers.models import (
    ERRORS,
    CertificateRef,
    Pin,
    ReaderIdBody,
    RequestId,
    Serial,
)

router = APIRouter(tags=["counter"], responses=ERRORS)


ResidentCode = Annotated[
    str, Field(pattern=r"^[0-9]{11}$", description="住民票コード (11 digits, check digit last)")
]
FaceToFace = Annotated[
    bool,
    Field(
        description="The clerk confirmed the face-to-face verification (本人確認) of the "
        "holder; required (FACE_TO_FACE_REQUIRED otherwise) and recorded in the audit."
    ),
]


class CardPinsIn(BaseModel):
    """The holder's PINs. The auth PIN proves the card holds its auth key; the sign PIN
    unlocks the signature certificate's basic 4 facts; a card without a signature
    certificate (holders under 15) gives its facts with the card-info PIN instead. With
    the card-info PIN the My Number is compared with the register too."""

    reader_id: ReaderIdBody
    auth_pin: Pin
    sign_pin: Pin | None = None
    cardinfo_pin: Pin | None = None

    def pins(self) -> CardPins:
        return CardPins(
            auth=self.auth_pin.get_secret_value(),
            sign=self.sign_pin.get_secret_value() if self.sign_pin else None,
            cardinfo=self.cardinfo_pin.get_secret_value() if self.cardinfo_pin else None,
        )


class IdentityCheckIn(CardPinsIn):
    resident_code: ResidentCode


class HolderOut(BaseModel):
    """Who the card says its holder is, for the clerk to compare with the person at
    the desk: name and birth date only (never the address or the My Number)."""

    name: str
    birth_date: str
    source: Literal["sign_certificate", "card_info"]


Verdict = Literal["match", "mismatch", "not_given"]


class IdentityOut(BaseModel):
    holder: HolderOut
    fields: dict[str, Verdict] = Field(
        description="The register's verdict per field (name, birth_date, sex, address, "
        "my_number), over every source the card gave; never a value"
    )
    sources: dict[str, dict[str, Verdict]]
    match: bool


class IssuanceIn(IdentityCheckIn):
    face_to_face_confirmed: FaceToFace = False
    request_id: RequestId | None = None


class IssuanceOut(BaseModel):
    person_id: str
    card_id: str
    person_created: bool
    replayed: bool
    certificates: list[CertificateRef]
    portal_symbol_hint: str | None
    my_number: str | None = Field(description="Masked: last 4 digits only")
    identity: IdentityOut


class RenewalIn(CardPinsIn):
    old_auth_serial: Serial
    face_to_face_confirmed: FaceToFace = False
    request_id: RequestId | None = None


class RenewalOut(BaseModel):
    person_id: str
    card_id: str
    replayed: bool
    certificates: list[CertificateRef]
    replaces: list[CertificateRef]
    identity: IdentityOut


class RevocationIn(BaseModel):
    serial: Serial
    reason: Literal[
        "basic_facts_changed",
        "loss",
        "death",
        "card_returned",
        "renewal",
        "key_compromise",
        "other",
    ]


class RevocationOut(BaseModel):
    person_id: str
    serial: str
    revoked: list[str]
    already: list[str]


def _identity_out(reading: CardReading, verdict: IdentityVerdict) -> IdentityOut:
    holder = reading.holder
    return IdentityOut(
        holder=HolderOut(
            name=holder.name,
            birth_date=holder.birth_date.isoformat(),
            source="card_info" if holder.source == "card_info" else "sign_certificate",
        ),
        fields=verdict.combined(),  # type: ignore[arg-type]
        sources=verdict.sources,  # type: ignore[arg-type]
        match=verdict.matches,
    )


@router.post("/api/issuance/identity", response_model=IdentityOut)
def identity_check(body: IdentityCheckIn, ctx: Ctx, operator: Clerk) -> IdentityOut:
    """Before linking: read the card (auth-key proof; the sign certificate and/or the
    card-info applet) and ask the register whether it is this resident's, per field.
    Links nothing; the check is audited. Refusals: INVALID_RESIDENT_CODE,
    RESIDENT_CODE_CHECK_DIGIT, UNKNOWN_RESIDENT, IDENTITY_FACTS_REQUIRED."""
    reading, verdict = cardwork.identity_preview(
        ctx, body.reader_id, operator, resident_code=body.resident_code, pins=body.pins()
    )
    return _identity_out(reading, verdict)


@router.post("/api/issuance", response_model=IssuanceOut)
def issuance(body: IssuanceIn, ctx: Ctx, operator: Clerk) -> IssuanceOut:
    """Read the new card with the holder's PINs, check its certificates (chain,
    revocation, proof of the auth key), check that it is the resident's (the register's
    basic 4 facts, and the My Number with the card-info PIN: IDENTITY_MISMATCH naming
    the fields otherwise), then get the person's symbols from the core and link the
    serials. Requires the clerk's face-to-face confirmation (FACE_TO_FACE_REQUIRED)."""
    outcome = cardwork.issuance(
        ctx,
        body.reader_id,
        operator,
        IssuanceRequest(
            resident_code=body.resident_code,
            pins=body.pins(),
            face_to_face_confirmed=body.face_to_face_confirmed,
            request_id=body.request_id,
        ),
    )
    result = outcome.result
    certificates = [CertificateRef(kind="auth", serial=result.auth_serial)]
    if result.sign_serial:
        certificates.append(CertificateRef(kind="sign", serial=result.sign_serial))
    my_number = outcome.reading.my_number
    return IssuanceOut(
        person_id=result.integrated_number,
        card_id=result.card_id,
        person_created=result.person_created,
        replayed=result.replayed,
        certificates=certificates,
        portal_symbol_hint=(
            cardwork.mask_symbol(outcome.portal_symbol) if outcome.portal_symbol else None
        ),
        my_number=my_number.masked if my_number else None,
        identity=_identity_out(outcome.reading, outcome.verdict),
    )


class RenewalCheckIn(CardPinsIn):
    old_auth_serial: Serial


@router.post("/api/renewal/identity", response_model=IdentityOut)
def renewal_identity_check(body: RenewalCheckIn, ctx: Ctx, operator: Clerk) -> IdentityOut:
    """Before renewing: read the new card and ask the register whether it is the same
    person's as the old serial's, per field. Links nothing; the check is audited."""
    reading, verdict = cardwork.renewal_preview(
        ctx, body.reader_id, operator, old_auth_serial=body.old_auth_serial, pins=body.pins()
    )
    return _identity_out(reading, verdict)


@router.post("/api/renewal", response_model=RenewalOut)
def renewal(body: RenewalIn, ctx: Ctx, operator: Clerk) -> RenewalOut:
    """Chain a renewed card's certificates to the old ones (新旧シリアル番号紐付け), once
    the new card is shown to be the same person's (IDENTITY_MISMATCH otherwise)."""
    outcome = cardwork.renewal(
        ctx,
        body.reader_id,
        operator,
        RenewalRequest(
            old_auth_serial=body.old_auth_serial,
            pins=body.pins(),
            face_to_face_confirmed=body.face_to_face_confirmed,
            request_id=body.request_id,
        ),
    )
    result = outcome.result
    certificates = [CertificateRef(kind="auth", serial=result.new_auth_serial)]
    replaces = [CertificateRef(kind="auth", serial=result.old_auth_serial)]
    if result.new_sign_serial:
        certificates.append(CertificateRef(kind="sign", serial=result.new_sign_serial))
    if result.old_sign_serial:
        replaces.append(CertificateRef(kind="sign", serial=result.old_sign_serial))
    return RenewalOut(
        person_id=result.integrated_number,
        card_id=result.card_id,
        replayed=result.replayed,
        certificates=certificates,
        replaces=replaces,
        identity=_identity_out(outcome.reading, outcome.verdict),
    )


@router.post("/api/revocation", response_model=RevocationOut)
def revocation(body: RevocationIn, ctx: Ctx, operator: Clerk) -> RevocationOut:
    """Cut the links of a certificate (and of its card's other certificate for loss,
    death, return, key compromise)."""
    registry = ctx.need_registry("revocation (linkage registry)")
    result = registry.revoke(body.serial, body.reason, cardwork.audit_operator(ctx, operator))
    return RevocationOut(
        person_id=result.integrated_number,
        serial=body.serial,
        revoked=list(result.revoked),
        already=list(result.already),
    )
