"""Kiosk login: a single-use challenge, then the card signs it behind the auth PIN."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from terminal.service import cardwork
from terminal.service.deps import Ctx, KioskOrClerk
from terminal.service.routers.models import ERRORS, Pin
from terminal.service.routers.readers import ReaderId

router = APIRouter(tags=["login"], responses=ERRORS)


class ChallengeOut(BaseModel):
    nonce: str
    origin: str
    expires_at: datetime


CardSerial = Annotated[int, Field(ge=0, le=2**53)]


class LoginIn(BaseModel):
    pin: Pin
    # base64url as /api/auth/challenge hands it out: anything else is refused here,
    # before the PIN is looked at or the card is touched.
    nonce: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$"
    )
    card_serial: CardSerial | None = Field(
        default=None,
        description="The card insertion the kiosk checked (reader card_serial); another "
        "card in the reader is refused with CARD_REMOVED before the PIN is sent",
    )


class KioskCheckOut(BaseModel):
    ready: bool
    card_serial: int
    remaining: int | None
    max_tries: int


class LoginOut(BaseModel):
    status: str
    serial: str
    portal_symbol_hint: str


@router.post("/api/auth/challenge", response_model=ChallengeOut)
def challenge(ctx: Ctx, operator: KioskOrClerk) -> ChallengeOut:
    """A fresh nonce for this session, valid once and for a short time."""
    issued = cardwork.issue_challenge(ctx, operator)
    return ChallengeOut(nonce=issued.nonce, origin=issued.origin, expires_at=issued.expires_at)


@router.post("/api/readers/{reader_id}/login", response_model=LoginOut)
def login(reader_id: ReaderId, body: LoginIn, ctx: Ctx, operator: KioskOrClerk) -> LoginOut:
    """The resident's PIN unlocks the auth key once; the card signs the challenge; the
    service validates the token and resolves the certificate to the portal symbol,
    which is shown only partially."""
    outcome = cardwork.login(
        ctx, reader_id, body.pin.get_secret_value(), body.nonce, operator, body.card_serial
    )
    return LoginOut(
        status="ok",
        serial=str(outcome.serial),
        portal_symbol_hint=cardwork.mask_symbol(outcome.portal_symbol),
    )


@router.get("/api/readers/{reader_id}/kiosk-check", response_model=KioskCheckOut)
def kiosk_check(
    reader_id: ReaderId,
    ctx: Ctx,
    _: KioskOrClerk,
    card_serial: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> KioskCheckOut:
    """Can the card in the reader log in? Answered before the PIN pad opens, spending
    no PIN try: a card that is not a My Number card, is unregistered, revoked, expired
    or has its auth PIN locked is refused with that error code. `card_serial` names the
    insertion the page saw (another card answers CARD_REMOVED)."""
    check = cardwork.kiosk_check(ctx, reader_id, card_serial)
    return KioskCheckOut(
        ready=True,
        card_serial=check.card_serial,
        remaining=check.remaining,
        max_tries=check.max_tries,
    )
