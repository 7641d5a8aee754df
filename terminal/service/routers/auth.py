"""Kiosk login: a single-use challenge, then the card signs it behind the auth PIN."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
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


class LoginIn(BaseModel):
    pin: Pin
    nonce: str | None = Field(default=None, min_length=1, max_length=128)


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
    outcome = cardwork.login(ctx, reader_id, body.pin.get_secret_value(), body.nonce, operator)
    return LoginOut(
        status="ok",
        serial=str(outcome.serial),
        portal_symbol_hint=cardwork.mask_symbol(outcome.portal_symbol),
    )
