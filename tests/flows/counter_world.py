"""Building the counter's use-case context for tests: the local test PKI's validator,
the dev symbol core (its resident register is the personas'), an auth-key proof bound to
a fresh challenge store."""

from __future__ import annotations

from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
from simulators.personas import Persona
from simulators.pki import TestPki
from terminal.audit.trail import Operator
from terminal.counter import CardPins, CounterContext, IssuanceRequest, RenewalRequest
from terminal.dev.local import local_core_client, validator_for
from terminal.linkage import LinkageRegistry
from terminal.linkage.core_client import SymbolSource

ORIGIN = "https://portal.example.jp"
CLERK = Operator("clerk-1", "counter-1")


def counter_context(
    pki: TestPki,
    registry: LinkageRegistry,
    *,
    core: SymbolSource | None = None,
    index_my_number: bool = False,
) -> CounterContext:
    validator = validator_for(pki)
    challenges = InMemoryChallengeStore()
    return CounterContext(
        validator=validator,
        registry=registry,
        core=core or local_core_client(),
        challenges=challenges,
        token_validator=AuthTokenValidator(validator, challenges, ORIGIN),
        origin=ORIGIN,
        operator=CLERK,
        index_my_number=index_my_number,
    )


def pins_of(holder: Persona, *, cardinfo: bool = False) -> CardPins:
    """The card holder's PINs: sign PIN when the card has a signature certificate,
    the card-info PIN when asked for or when it has none."""
    return CardPins(
        auth=holder.pins.auth,
        sign=holder.pins.sign if holder.sign_certificate else None,
        cardinfo=holder.pins.cardinfo if cardinfo or not holder.sign_certificate else None,
    )


def issuance_request(
    resident_code: str, holder: Persona, *, cardinfo: bool = False, **extra: object
) -> IssuanceRequest:
    return IssuanceRequest(
        resident_code=resident_code,
        pins=pins_of(holder, cardinfo=cardinfo),
        face_to_face_confirmed=True,
        **extra,  # type: ignore[arg-type]
    )


def renewal_request(old_auth_serial: str, holder: Persona, **extra: object) -> RenewalRequest:
    return RenewalRequest(
        old_auth_serial=old_auth_serial,
        pins=pins_of(holder),
        face_to_face_confirmed=True,
        **extra,  # type: ignore[arg-type]
    )
