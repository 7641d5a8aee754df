"""`mynaterm issue`, `renew` and `login`: the counter's and the kiosk's flows on a card
(`--card` software card or `--reader`), the local test PKI, the symbol core and the
linkage registry. See terminal.flows for what each flow does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from terminal.flows import CounterContext
from terminal.cli.context import CliState
from terminal.cli.errors import cli_errors
from terminal.cli.linkage import DbOption, OperatorOption, TerminalOption, _operator
from terminal.cli.output import JsonOption, console, emit, fail
from terminal.cli.pins import PinStdinOption, read_pin

PkiOption = Annotated[
    Path | None, typer.Option("--pki", help="Test PKI directory (default MYNATERM_HOME/pki).")
]
NoSignOption = Annotated[
    bool, typer.Option("--no-sign", help="The card has no signature certificate (under 15).")
]
DEFAULT_ORIGIN = "https://portal.localhost"


def _resident_code(resident_code: str | None, persona: str | None, as_json: bool) -> str:
    if resident_code:
        return resident_code
    if persona:
        from terminal.dev.local import persona_resident_code

        return persona_resident_code(persona)
    fail(
        "give --resident-code (or --persona for a test persona)",
        code="USAGE",
        as_json=as_json,
    )


@contextmanager
def _counter(
    db: str | None, pki_dir: Path | None, operator: str | None, terminal: str | None
) -> Iterator[CounterContext]:
    """The counter's parts on the embedded defaults; the store is closed afterwards."""
    from terminal.db import open_store
    from terminal.dev.local import local_core_client, open_local_pki, validator_for
    from terminal.flows import CounterContext
    from terminal.linkage import LinkageRegistry

    store = open_store(db)
    try:
        yield CounterContext(
            validator=validator_for(open_local_pki(pki_dir)),
            registry=LinkageRegistry(store),
            symbols=local_core_client(),
            operator=_operator(operator, terminal),
        )
    finally:
        store.close()


def _print(payload: dict[str, Any]) -> None:
    for key, value in payload.items():
        console.print(f"[bold]{key:>18}[/]: {value}", highlight=False)


def issue(
    ctx: typer.Context,
    resident_code: Annotated[
        str | None, typer.Option("--resident-code", help="住民票コード of the holder.")
    ] = None,
    persona: Annotated[
        str | None, typer.Option("--persona", help="Take the resident code of a test persona.")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option("--person", help="Integrated number (団体内統合宛名番号) of a known person."),
    ] = None,
    no_sign: NoSignOption = False,
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
    """Issuance (交付): read and validate the card's certificates (sign certificate after
    the holder's sign PIN), get the person's symbols from the core, link them."""
    from terminal.flows import issue_card
    from terminal.linkage.types import PersonRef

    state: CliState = ctx.obj
    code = _resident_code(resident_code, persona, as_json)
    with cli_errors(as_json):
        sign_pin = None if no_sign else read_pin("sign", pin_stdin=pin_stdin)
        with (
            _counter(db, pki_dir, operator, terminal) as context,
            state.channel(as_json=as_json) as channel,
        ):
            outcome = issue_card(
                channel,
                context,
                resident_code=code,
                sign_pin=sign_pin,
                person=PersonRef(integrated_number=person) if person else None,
                request_id=request_id,
            )
    result = outcome.result
    payload = {
        "integrated_number": result.integrated_number,
        "card_id": result.card_id,
        "auth_serial": result.auth_serial,
        "sign_serial": result.sign_serial,
        "person_created": result.person_created,
        "replayed": result.replayed,
        "certificates": outcome.card.summary(),
    }
    emit(payload, as_json, lambda: _print(payload))


def renew(
    ctx: typer.Context,
    old_serial: Annotated[str, typer.Option("--old-serial", help="Auth serial of the old card.")],
    no_sign: NoSignOption = False,
    request_id: Annotated[str | None, typer.Option("--request-id")] = None,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Renewal (更新): validate the new card and chain the old serials to the new ones."""
    from terminal.flows import renew_card

    state: CliState = ctx.obj
    with cli_errors(as_json):
        sign_pin = None if no_sign else read_pin("sign", pin_stdin=pin_stdin)
        with (
            _counter(db, pki_dir, operator, terminal) as context,
            state.channel(as_json=as_json) as channel,
        ):
            outcome = renew_card(
                channel,
                context,
                old_auth_serial=old_serial,
                sign_pin=sign_pin,
                request_id=request_id,
            )
    result = outcome.result
    payload = {
        "integrated_number": result.integrated_number,
        "old_auth_serial": result.old_auth_serial,
        "new_auth_serial": result.new_auth_serial,
        "old_sign_serial": result.old_sign_serial,
        "new_sign_serial": result.new_sign_serial,
        "replayed": result.replayed,
    }
    emit(payload, as_json, lambda: _print(payload))


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
    emit(payload, as_json, lambda: _print(payload))


def register(app: typer.Typer) -> None:
    app.command("issue")(issue)
    app.command("renew")(renew)
    app.command("login")(login_command)
