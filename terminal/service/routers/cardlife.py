"""The card's life at the counter (issue 15): PIN setting on a new card, PIN reset, and
renewal on the same card (also a new sign certificate after a move), plus the
reconciliation of an operation a pulled card interrupted. Clerks only; every operation
needs the clerk's face-to-face confirmation and the identity binding
(terminal.counter.cardlife). The card's admin channel is a MODEL (jpki/admin_protocol.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jpki.constants import PinKind
from jpki.issuance import confirm_new_pin
from terminal.counter import cardlife
from terminal.counter.cardread import CardPins
from terminal.counter.errors import FaceToFaceRequired
from terminal.service.cardwork import audit_operator, counter_context
from terminal.service.context import ServiceContext
from terminal.service.deps import Clerk, Ctx
from terminal.service.errors import ServiceError
from terminal.service.routers.models import ERRORS, Pin, ReaderIdBody
from terminal.service.security import SignedInOperator

router = APIRouter(tags=["counter: the card's life"], responses=ERRORS)

ResidentCode = Annotated[str, Field(pattern=r"^[0-9]{11}$")]
FaceToFace = Annotated[
    bool,
    Field(description="The clerk confirmed the face-to-face verification (本人確認)."),
]


class NewPin(BaseModel):
    """A new PIN as the holder typed it twice on the counter's PIN entry."""

    pin: Pin
    again: Pin

    def confirmed(self, kind: PinKind) -> str:
        return confirm_new_pin(kind, self.pin.get_secret_value(), self.again.get_secret_value())


class SetPinsIn(BaseModel):
    reader_id: ReaderIdBody
    resident_code: ResidentCode
    face_to_face_confirmed: FaceToFace = False
    auth: NewPin
    sign: NewPin
    cardinfo: NewPin | None = None


class SetPinsOut(BaseModel):
    auth_serial: str
    set: list[str]
    already_set: list[str]


class ResetPinIn(BaseModel):
    reader_id: ReaderIdBody
    resident_code: ResidentCode
    face_to_face_confirmed: FaceToFace = False
    kind: Literal["auth", "sign", "cardinfo"]
    new_pin: NewPin | None = Field(
        default=None, description="Absent: only the retry counter is reset (PIN still known)."
    )


class ResetPinOut(BaseModel):
    auth_serial: str
    kind: str
    new_value: bool
    tries_left: int


class RenewOnCardIn(BaseModel):
    reader_id: ReaderIdBody
    resident_code: ResidentCode
    face_to_face_confirmed: FaceToFace = False
    auth: bool = True
    sign: bool = True
    move: bool = Field(default=False, description="A new sign certificate after a move.")
    # Optional: with the holder's PINs the register match of issue 10 runs as well (the
    # card read with the PINs, its facts matched at the core), not only the issuing
    # authority's record.
    auth_pin: Pin | None = None
    sign_pin: Pin | None = None
    cardinfo_pin: Pin | None = None


class RenewOnCardOut(BaseModel):
    person_id: str
    old_auth_serial: str
    new_auth_serial: str
    old_sign_serial: str | None
    new_sign_serial: str | None
    move: bool
    reconciled_first: bool


class ReconcileIn(BaseModel):
    reader_id: ReaderIdBody


class ReconcileOut(BaseModel):
    changed: bool
    committed_auth_serial: str | None
    committed_sign_serial: str | None
    revoked_unused: list[str]
    revoked_replaced: list[str]


def _life(ctx: ServiceContext, operator: SignedInOperator) -> cardlife.CardLifeContext:
    """Every part first (NOT_AVAILABLE before any PIN or card command)."""
    return cardlife.CardLifeContext(
        validator=ctx.need_validator("the counter (certificate validator)"),
        registry=ctx.need_registry("the counter (linkage registry)"),
        authority=ctx.need_issuer("the counter (issuing authority)"),
        operator=audit_operator(ctx, operator),
        clock=ctx.clock,
    )


def _require_face_to_face(confirmed: bool) -> None:
    # Before the card is touched, like the PIN formats.
    if not confirmed:
        raise FaceToFaceRequired("confirm the holder's identity face to face first")


@router.post("/api/counter/pins", response_model=SetPinsOut)
def set_pins(body: SetPinsIn, ctx: Ctx, operator: Clerk) -> SetPinsOut:
    """暗証番号の設定: the holder sets the PINs of a new card (each typed twice). The
    card must have been issued to the resident named (IDENTITY_MISMATCH)."""
    life = _life(ctx, operator)
    pins = {PinKind.AUTH: body.auth.confirmed(PinKind.AUTH)}
    pins[PinKind.SIGN] = body.sign.confirmed(PinKind.SIGN)
    if body.cardinfo is not None:
        pins[PinKind.CARD_INFO] = body.cardinfo.confirmed(PinKind.CARD_INFO)
    _require_face_to_face(body.face_to_face_confirmed)
    with ctx.readers.session(body.reader_id, "set-pins") as card:
        card.progress("set-pins")
        outcome = cardlife.set_pins(
            card.channel,
            life,
            resident_code=body.resident_code,
            pins=pins,
            face_to_face_confirmed=True,
        )
    return SetPinsOut(
        auth_serial=outcome.auth_serial,
        set=list(outcome.set),
        already_set=list(outcome.already_set),
    )


@router.post("/api/counter/pin-reset", response_model=ResetPinOut)
def reset_pin(body: ResetPinIn, ctx: Ctx, operator: Clerk) -> ResetPinOut:
    """暗証番号の再設定・ロック解除 for a locked or forgotten PIN."""
    life = _life(ctx, operator)
    kind = PinKind(body.kind)
    new_pin = body.new_pin.confirmed(kind) if body.new_pin is not None else None
    _require_face_to_face(body.face_to_face_confirmed)
    with ctx.readers.session(body.reader_id, "pin-reset") as card:
        card.progress("reset-pin")
        outcome = cardlife.reset_pin(
            card.channel,
            life,
            resident_code=body.resident_code,
            kind=kind,
            new_pin=new_pin,
            face_to_face_confirmed=True,
        )
    return ResetPinOut(
        auth_serial=outcome.auth_serial,
        kind=outcome.kind,
        new_value=outcome.new_value,
        tries_left=outcome.remaining,
    )


@router.post("/api/counter/renew-on-card", response_model=RenewOnCardOut)
def renew_on_card(body: RenewOnCardIn, ctx: Ctx, operator: Clerk) -> RenewOnCardOut:
    """電子証明書の更新 on the same card: new keys generated on the card, new
    certificates, the old serials chained to the new ones and revoked. No PIN."""
    life = _life(ctx, operator)
    kinds = cardlife.renewal_kinds(auth=body.auth, sign=body.sign, move=body.move)
    if not kinds:
        raise ServiceError("INVALID_REQUEST", "nothing to renew: ask for auth and/or sign")
    _require_face_to_face(body.face_to_face_confirmed)
    pins = None
    if body.auth_pin is not None:
        pins = CardPins(
            body.auth_pin.get_secret_value(),
            body.sign_pin.get_secret_value() if body.sign_pin else None,
            body.cardinfo_pin.get_secret_value() if body.cardinfo_pin else None,
        )
        pins.check_formats()  # before the card is touched
    with ctx.readers.session(body.reader_id, "renew-on-card") as card:
        if pins is not None:
            life.identity = cardlife.RegisterIdentityBinding(
                card.channel, counter_context(ctx, operator), pins, life.authority
            )
        card.progress("renew")
        outcome = cardlife.renew_on_card(
            card.channel,
            life,
            resident_code=body.resident_code,
            kinds=kinds,
            face_to_face_confirmed=True,
            move=body.move,
        )
    result = outcome.result
    return RenewOnCardOut(
        person_id=result.integrated_number,
        old_auth_serial=result.old_auth_serial,
        new_auth_serial=result.new_auth_serial,
        old_sign_serial=result.old_sign_serial,
        new_sign_serial=result.new_sign_serial,
        move=outcome.move,
        reconciled_first=outcome.reconciled is not None,
    )


@router.post("/api/counter/reconcile", response_model=ReconcileOut)
def reconcile(body: ReconcileIn, ctx: Ctx, operator: Clerk) -> ReconcileOut:
    """Complete an operation a pulled card interrupted: the registry and the issuing
    authority follow the keys the card holds."""
    life = _life(ctx, operator)
    with ctx.readers.session(body.reader_id, "reconcile") as card:
        outcome = cardlife.reconcile(card.channel, life)
    committed = outcome.committed
    return ReconcileOut(
        changed=outcome.changed,
        committed_auth_serial=committed.new_auth_serial if committed else None,
        committed_sign_serial=committed.new_sign_serial if committed else None,
        revoked_unused=list(outcome.revoked_unused),
        revoked_replaced=list(outcome.revoked_replaced),
    )
