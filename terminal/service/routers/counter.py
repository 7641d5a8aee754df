"""Counter operations (交付窓口): issuance, renewal, revocation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

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


class IssuanceIn(BaseModel):
    reader_id: ReaderIdBody
    resident_code: Annotated[str, Field(pattern=r"^[0-9]{11}$")]
    auth_pin: Pin
    sign_pin: Pin
    cardinfo_pin: Pin | None = None
    request_id: RequestId | None = None


class IssuanceOut(BaseModel):
    person_id: str
    card_id: str
    person_created: bool
    replayed: bool
    certificates: list[CertificateRef]
    portal_symbol_hint: str | None
    my_number: str | None = Field(description="Masked: last 4 digits only")


class RenewalIn(BaseModel):
    reader_id: ReaderIdBody
    old_auth_serial: Serial
    auth_pin: Pin
    sign_pin: Pin
    request_id: RequestId | None = None


class RenewalOut(BaseModel):
    person_id: str
    card_id: str
    replayed: bool
    certificates: list[CertificateRef]
    replaces: list[CertificateRef]


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


@router.post("/api/issuance", response_model=IssuanceOut)
def issuance(body: IssuanceIn, ctx: Ctx, operator: Clerk) -> IssuanceOut:
    """Read the new card with the holder's PINs, check both certificates (chain,
    revocation, proof of the auth key), get the person's symbols from the core and link
    the serials. With the card-info PIN the My Number is read too (kept only as a keyed
    index; shown masked)."""
    outcome = cardwork.issuance(
        ctx,
        body.reader_id,
        operator,
        resident_code=body.resident_code,
        auth_pin=body.auth_pin.get_secret_value(),
        sign_pin=body.sign_pin.get_secret_value(),
        cardinfo_pin=body.cardinfo_pin.get_secret_value() if body.cardinfo_pin else None,
        request_id=body.request_id,
    )
    result = outcome.result
    certificates = [CertificateRef(kind="auth", serial=result.auth_serial)]
    if result.sign_serial:
        certificates.append(CertificateRef(kind="sign", serial=result.sign_serial))
    return IssuanceOut(
        person_id=result.integrated_number,
        card_id=result.card_id,
        person_created=result.person_created,
        replayed=result.replayed,
        certificates=certificates,
        portal_symbol_hint=(
            cardwork.mask_symbol(outcome.portal_symbol) if outcome.portal_symbol else None
        ),
        my_number=outcome.my_number.masked if outcome.my_number else None,
    )


@router.post("/api/renewal", response_model=RenewalOut)
def renewal(body: RenewalIn, ctx: Ctx, operator: Clerk) -> RenewalOut:
    """Chain a renewed card's certificates to the old ones (新旧シリアル番号紐付け)."""
    result = cardwork.renewal(
        ctx,
        body.reader_id,
        operator,
        old_auth_serial=body.old_auth_serial,
        auth_pin=body.auth_pin.get_secret_value(),
        sign_pin=body.sign_pin.get_secret_value(),
        request_id=body.request_id,
    )
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
