"""`mynaterm issue`, `renew` and `login`: the counter's and the kiosk's flows on a card
(`--card` software card or `--reader`), the local test PKI, the symbol core and the
linkage registry. The counter's use cases are terminal.counter's (shared with the
service); the kiosk's is terminal.flows.login. Heavy imports happen inside the commands
(start-up time of the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from terminal.cli.context import CliState
from terminal.cli.errors import cli_errors
from terminal.cli.linkage import DbOption, OperatorOption, TerminalOption, _operator
from terminal.cli.options import (
    PersonaOption,
    PkiOption,
    ResidentOption,
    print_fields,
    resident_code_from,
)
from terminal.cli.output import JsonOption, emit
from terminal.cli.pins import PinStdinOption, read_pin

if TYPE_CHECKING:
    from terminal.counter import CardPins, CardReading, CounterContext, IdentityVerdict

NoSignOption = Annotated[
    bool, typer.Option("--no-sign", help="The card has no signature certificate (under 15).")
]
DEFAULT_ORIGIN = "https://portal.localhost"


@contextmanager
def _counter(
    db: str | None, pki_dir: Path | None, operator: str | None, terminal: str | None
) -> Iterator[CounterContext]:
    """The counter's parts on the embedded defaults; the store is closed afterwards."""
    from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
    from terminal.counter import CounterContext
    from terminal.db import open_store
    from terminal.dev.local import local_core_client, open_local_pki, validator_for
    from terminal.linkage import LinkageRegistry

    store = open_store(db)
    try:
        validator = validator_for(open_local_pki(pki_dir))
        challenges = InMemoryChallengeStore()
        yield CounterContext(
            validator=validator,
            registry=LinkageRegistry(store),
            core=local_core_client(),
            challenges=challenges,
            token_validator=AuthTokenValidator(validator, challenges, DEFAULT_ORIGIN),
            origin=DEFAULT_ORIGIN,
            operator=_operator(operator, terminal),
        )
    finally:
        store.close()


CardInfoOption = Annotated[
    bool,
    typer.Option(
        "--card-info",
        help="Also read the card-info applet (card-info PIN): its facts and the My Number "
        "are compared with the register too. Implied by --no-sign.",
    ),
]
FaceToFaceOption = Annotated[
    bool,
    typer.Option(
        "--face-to-face",
        help="The clerk confirms the face-to-face verification (本人確認) of the holder. "
        "Required; recorded in the audit trail.",
    ),
]


def _card_pins(no_sign: bool, card_info: bool, pin_stdin: bool) -> CardPins:
    """The holder's PINs, in this order on --pin-stdin: auth, sign (unless --no-sign),
    card-info (with --card-info or --no-sign); else MYNATERM_AUTH_PIN, MYNATERM_SIGN_PIN,
    MYNATERM_CARDINFO_PIN, else a prompt for each."""
    from terminal.counter import CardPins

    auth = read_pin("auth (4 digits)", pin_stdin=pin_stdin, variable="MYNATERM_AUTH_PIN")
    sign = None if no_sign else read_pin("sign", pin_stdin=pin_stdin, variable="MYNATERM_SIGN_PIN")
    cardinfo = (
        read_pin("card-info (4 digits)", pin_stdin=pin_stdin, variable="MYNATERM_CARDINFO_PIN")
        if card_info or no_sign
        else None
    )
    return CardPins(auth=auth, sign=sign, cardinfo=cardinfo)


def _identity(reading: CardReading, verdict: IdentityVerdict) -> dict[str, Any]:
    holder = reading.holder
    return {
        "holder": {"name": holder.name, "birth_date": holder.birth_date.isoformat()},
        "source": holder.source,
        "fields": verdict.combined(),
    }


def issue(
    ctx: typer.Context,
    resident_code: ResidentOption = None,
    persona: PersonaOption = None,
    person: Annotated[
        str | None,
        typer.Option("--person", help="Integrated number (団体内統合宛名番号) of a known person."),
    ] = None,
    no_sign: NoSignOption = False,
    card_info: CardInfoOption = False,
    face_to_face: FaceToFaceOption = False,
    request_id: Annotated[
        str | None, typer.Option("--request-id", help="Idempotency key of this issuance.")
    ] = None,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Issuance (交付): the card proves its auth key (auth PIN), its certificates are
    validated, its holder's facts (sign certificate after the sign PIN; card-info applet
    after its PIN) must match the register for the resident code, then the person's
    symbols are linked (terminal.counter.issuance)."""
    from terminal.counter import IssuanceRequest
    from terminal.counter import issuance as counter_issuance
    from terminal.counter.issuance import require_face_to_face

    state: CliState = ctx.obj
    code = resident_code_from(resident_code, persona, as_json)
    with cli_errors(as_json):
        require_face_to_face(face_to_face)
        pins = _card_pins(no_sign, card_info, pin_stdin)
        request = IssuanceRequest(
            resident_code=code,
            pins=pins,
            face_to_face_confirmed=face_to_face,
            integrated_number=person,
            request_id=request_id,
        )
        with (
            _counter(db, pki_dir, operator, terminal) as context,
            state.channel(as_json=as_json) as channel,
        ):
            outcome = counter_issuance.issue(channel, context, request)
    result = outcome.result
    payload = {
        "integrated_number": result.integrated_number,
        "card_id": result.card_id,
        "auth_serial": result.auth_serial,
        "sign_serial": result.sign_serial,
        "person_created": result.person_created,
        "replayed": result.replayed,
        "identity": _identity(outcome.reading, outcome.verdict),
        "certificates": _summary(outcome.reading),
    }
    emit(payload, as_json, lambda: print_fields(payload))


def _summary(reading: CardReading) -> dict[str, Any]:
    from terminal.flows import CheckedCard

    return CheckedCard(
        reading.auth_certificate, reading.sign_certificate, reading.auth, reading.sign
    ).summary()


def renew(
    ctx: typer.Context,
    old_serial: Annotated[str, typer.Option("--old-serial", help="Auth serial of the old card.")],
    no_sign: NoSignOption = False,
    card_info: CardInfoOption = False,
    face_to_face: FaceToFaceOption = False,
    request_id: Annotated[str | None, typer.Option("--request-id")] = None,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Renewal (更新): the new card must be the same person's (its facts match the
    register for the person of the old serial), then the old serials are chained to the
    new ones (terminal.counter.renewal)."""
    from terminal.counter import RenewalRequest
    from terminal.counter import renewal as counter_renewal
    from terminal.counter.issuance import require_face_to_face

    state: CliState = ctx.obj
    with cli_errors(as_json):
        require_face_to_face(face_to_face)
        pins = _card_pins(no_sign, card_info, pin_stdin)
        request = RenewalRequest(
            old_auth_serial=old_serial,
            pins=pins,
            face_to_face_confirmed=face_to_face,
            request_id=request_id,
        )
        with (
            _counter(db, pki_dir, operator, terminal) as context,
            state.channel(as_json=as_json) as channel,
        ):
            outcome = counter_renewal.renew(channel, context, request)
    result = outcome.result
    payload = {
        "integrated_number": result.integrated_number,
        "old_auth_serial": result.old_auth_serial,
        "new_auth_serial": result.new_auth_serial,
        "old_sign_serial": result.old_sign_serial,
        "new_sign_serial": result.new_sign_serial,
        "replayed": result.replayed,
        "identity": _identity(outcome.reading, outcome.verdict),
    }
    emit(payload, as_json, lambda: print_fields(payload))


def login_command(
    ctx: typer.Context,
    origin: Annotated[str, typer.Option("--origin", help="Relying party origin.")] = DEFAULT_ORIGIN,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """A full portal login: challenge, auth PIN, card signature, token validation (chain,
    revocation, signature, origin, single-use challenge), portal symbol."""
    from jpki.auth import AuthTokenValidator, InMemoryChallengeStore
    from terminal.db import open_store
    from terminal.dev.local import open_local_pki, validator_for
    from terminal.flows import KioskContext, login
    from terminal.linkage import LinkageRegistry

    state: CliState = ctx.obj
    with cli_errors(as_json):
        pin = read_pin("auth (4 digits)", pin_stdin=pin_stdin)
        store = open_store(db)
        try:
            challenges = InMemoryChallengeStore()
            validator = validator_for(open_local_pki(pki_dir))
            context = KioskContext(
                challenges=challenges,
                token_validator=AuthTokenValidator(validator, challenges, origin),
                registry=LinkageRegistry(store),
                origin=origin,
                operator=_operator(operator, terminal),
            )
            with state.channel(as_json=as_json) as channel:
                outcome = login(channel, context, pin=pin)
        finally:
            store.close()
    payload = {
        "portal_symbol": outcome.resolution.portal_symbol,
        "integrated_number": outcome.resolution.integrated_number,
        "serial": outcome.resolution.serial,
        "revocation_source": outcome.auth.record.revocation_source,
        "revocation_status": outcome.auth.record.revocation_status,
    }
    emit(payload, as_json, lambda: print_fields(payload))


def register(app: typer.Typer) -> None:
    app.command("issue")(issue)
    app.command("renew")(renew)
    app.command("login")(login_command)
