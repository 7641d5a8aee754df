"""The counter's use cases (交付窓口): issuance, renewal and person lookup, one layer
used by both the CLI and the service, so no entry point can skip a check.

    ctx = CounterContext(validator, registry, core, challenges, token_validator,
                         origin, operator)
    outcome = issuance.issue(channel, ctx, IssuanceRequest(resident_code,
                             CardPins(auth, sign, cardinfo), face_to_face_confirmed=True))

A card is linked only after: the clerk confirmed the face-to-face verification, the
resident code is on the register, the card proved its auth key, its certificates are
valid, and its identity facts match the register (IDENTITY_MISMATCH otherwise)."""

from terminal.counter import issuance, lookup, renewal
from terminal.counter.cardread import CardFacts, CardPins, CardReading, read_card
from terminal.counter.context import CounterContext
from terminal.counter.errors import (
    CardMismatch,
    CounterRefusal,
    FaceToFaceRequired,
    IdentityFactsRequired,
    IdentityMismatch,
)
from terminal.counter.identity import IdentityVerdict
from terminal.counter.issuance import IssuanceOutcome, IssuanceRequest
from terminal.counter.renewal import RenewalOutcome, RenewalRequest

__all__ = [
    "CardFacts",
    "CardMismatch",
    "CardPins",
    "CardReading",
    "CounterContext",
    "CounterRefusal",
    "FaceToFaceRequired",
    "IdentityFactsRequired",
    "IdentityMismatch",
    "IdentityVerdict",
    "IssuanceOutcome",
    "IssuanceRequest",
    "RenewalOutcome",
    "RenewalRequest",
    "issuance",
    "lookup",
    "read_card",
    "renewal",
]
