"""The card in a reader: token info, certificate summaries, PIN status (no try spent)."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from fastapi import APIRouter
from pydantic import BaseModel

from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import TOKEN_INFO_MYNUMBER_CARD, CertKind, PinKind
from jpki.jpki_ap import JpkiSession
from jpki.pin import PinStatus
from terminal.service.deps import Ctx, KioskOrClerk
from terminal.service.errors import ServiceError
from terminal.service.routers.readers import ReaderId

router = APIRouter(prefix="/api/readers", tags=["card"])


class CertificateSummary(BaseModel):
    kind: str
    serial: str  # decimal: JPKI serials are large integers; text keeps them exact in JS
    serial_hex: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime


class PinState(BaseModel):
    kind: str
    remaining: int | None
    max_tries: int
    verified: bool
    blocked: bool
    # False on a new card whose PINs the holder has not set yet (issue 15).
    is_set: bool = True


class CardSummary(BaseModel):
    reader: str
    card_serial: int
    token_info: str
    mynumber_card: bool
    certificates: list[CertificateSummary]
    pins: list[PinState]


def summarize_certificate(kind: CertKind, der: bytes) -> CertificateSummary:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ServiceError(
            "CERT_MALFORMED", f"the card's {kind.value} certificate does not parse"
        ) from exc
    return CertificateSummary(
        kind=kind.value,
        serial=str(cert.serial_number),
        serial_hex=format(cert.serial_number, "X"),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def pin_state(status: PinStatus) -> PinState:
    return PinState(
        kind=status.kind.value,
        remaining=status.remaining,
        max_tries=status.max_tries,
        verified=status.verified,
        blocked=status.blocked,
        is_set=status.is_set,
    )


@router.get("/{reader_id}/card", response_model=CardSummary)
def card_summary(reader_id: ReaderId, ctx: Ctx, _: KioskOrClerk) -> CardSummary:
    """What can be read without any PIN: token info, the auth certificate and both CA
    certificates (the sign certificate needs the sign PIN), and every PIN's remaining
    tries. Spends no PIN try."""
    with ctx.readers.session(reader_id, "read-card") as card:
        card.progress("reading token info")
        jpki = JpkiSession(card.channel)
        token = jpki.token_info()
        certificates = []
        for kind in (CertKind.AUTH, CertKind.AUTH_CA, CertKind.SIGN_CA):
            card.progress(f"reading {kind.value} certificate")
            certificates.append(summarize_certificate(kind, jpki.read_certificate(kind)))
        card.progress("reading PIN status")
        pins = [pin_state(jpki.pin_status(kind)) for kind in (PinKind.AUTH, PinKind.SIGN)]
        pins.append(pin_state(CardInfoSession(card.channel).pin_status()))
        return CardSummary(
            reader=card.reader.id,
            card_serial=card.reader.card_serial,
            token_info=token,
            mynumber_card=token == TOKEN_INFO_MYNUMBER_CARD,
            certificates=certificates,
            pins=pins,
        )
