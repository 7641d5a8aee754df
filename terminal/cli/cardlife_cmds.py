"""`mynaterm set-pins`, `reset-pin`, `renew-on-card`, `reconcile-card`: the card's life
at the counter (terminal.counter.cardlife) on a card (`--card` software card or `--reader`), with
the local test PKI as the issuing authority. The card's admin channel is a MODEL of the
real issuer channel (jpki/admin_protocol.py).

New PINs are never taken from the command line: typed twice at a no-echo prompt, or two
lines each on standard input with --pin-stdin, or (scripts) MYNATERM_NEW_AUTH_PIN,
MYNATERM_NEW_SIGN_PIN, MYNATERM_NEW_CARDINFO_PIN."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jpki.constants import PinKind
from jpki.issuance import confirm_new_pin
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
from terminal.cli.output import JsonOption, emit, fail
from terminal.cli.pins import PinStdinOption, _stdin_line

if TYPE_CHECKING:
    from terminal.counter.cardlife import CardLifeContext

# terminal.counter.cardlife and the store (SQLAlchemy) are imported when a command runs: the
# CLI's entry module stays light (tests/terminal/test_cli_imports.py).

FaceToFaceOption = Annotated[
    bool,
    typer.Option(
        "--face-to-face",
        help="The clerk confirms the face-to-face verification (本人確認) of the holder.",
    ),
]
NEW_PIN_VARIABLES = {
    PinKind.AUTH: "MYNATERM_NEW_AUTH_PIN",
    PinKind.SIGN: "MYNATERM_NEW_SIGN_PIN",
    PinKind.CARD_INFO: "MYNATERM_NEW_CARDINFO_PIN",
}
PIN_LABELS = {
    PinKind.AUTH: "auth (4 digits)",
    PinKind.SIGN: "sign (6-16 A-Z 0-9)",
    PinKind.CARD_INFO: "card-info (4 digits)",
}


def read_new_pin(kind: PinKind, *, pin_stdin: bool) -> str:
    """A new PIN typed twice (both entries must agree), or once from the environment."""
    if pin_stdin:
        return confirm_new_pin(kind, _stdin_line(), _stdin_line())
    from_env = os.environ.get(NEW_PIN_VARIABLES[kind])
    if from_env:
        return confirm_new_pin(kind, from_env, from_env)
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            f"no new {kind.value} PIN: set {NEW_PIN_VARIABLES[kind]}, use --pin-stdin, "
            "or run in a terminal"
        )
    first: str = typer.prompt(f"New {PIN_LABELS[kind]} PIN", hide_input=True)
    second: str = typer.prompt(f"New {PIN_LABELS[kind]} PIN again", hide_input=True)
    return confirm_new_pin(kind, first, second)


@contextmanager
def _life(
    db: str | None, pki_dir: Path | None, operator: str | None, terminal: str | None
) -> Iterator[CardLifeContext]:
    from terminal.counter.cardlife import CardLifeContext
    from terminal.db import open_store
    from terminal.dev.issuer import TestPkiAuthority
    from terminal.dev.local import open_local_pki, validator_for
    from terminal.linkage import LinkageRegistry

    pki = open_local_pki(pki_dir)
    store = open_store(db)
    try:
        yield CardLifeContext(
            validator=validator_for(pki),
            registry=LinkageRegistry(store),
            authority=TestPkiAuthority(pki),
            operator=_operator(operator, terminal),
        )
    finally:
        store.close()


def _require_face_to_face(face_to_face: bool) -> None:
    from terminal.counter.errors import FaceToFaceRequired

    if not face_to_face:
        raise FaceToFaceRequired("confirm the holder's identity face to face: --face-to-face")


def set_pins_command(
    ctx: typer.Context,
    resident_code: ResidentOption = None,
    persona: PersonaOption = None,
    face_to_face: FaceToFaceOption = False,
    no_cardinfo: Annotated[
        bool, typer.Option("--no-cardinfo", help="Leave the card-info PIN for later.")
    ] = False,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """暗証番号の設定: the holder sets the PINs of a new card (each typed twice)."""
    state: CliState = ctx.obj
    code = resident_code_from(resident_code, persona, as_json)
    kinds = [PinKind.AUTH, PinKind.SIGN] + ([] if no_cardinfo else [PinKind.CARD_INFO])
    with cli_errors(as_json):
        _require_face_to_face(face_to_face)
        pins = {kind: read_new_pin(kind, pin_stdin=pin_stdin) for kind in kinds}
        with (
            _life(db, pki_dir, operator, terminal) as life,
            state.channel(as_json=as_json) as channel,
        ):
            from terminal.counter.cardlife import set_pins

            outcome = set_pins(
                channel, life, resident_code=code, pins=pins, face_to_face_confirmed=True
            )
    payload = {
        "auth_serial": outcome.auth_serial,
        "set": list(outcome.set),
        "already_set": list(outcome.already_set),
    }
    emit(payload, as_json, lambda: print_fields(payload))


def reset_pin_command(
    ctx: typer.Context,
    kind: Annotated[
        PinKind, typer.Option("--kind", help="Which PIN: auth, sign or cardinfo.")
    ] = PinKind.AUTH,
    keep_value: Annotated[
        bool,
        typer.Option("--keep-value", help="Only unlock (the holder still knows the PIN)."),
    ] = False,
    resident_code: ResidentOption = None,
    persona: PersonaOption = None,
    face_to_face: FaceToFaceOption = False,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """暗証番号の再設定・ロック解除: a new PIN (typed twice) and a full retry counter."""
    state: CliState = ctx.obj
    code = resident_code_from(resident_code, persona, as_json)
    with cli_errors(as_json):
        _require_face_to_face(face_to_face)
        new_pin = None if keep_value else read_new_pin(kind, pin_stdin=pin_stdin)
        with (
            _life(db, pki_dir, operator, terminal) as life,
            state.channel(as_json=as_json) as channel,
        ):
            from terminal.counter.cardlife import reset_pin

            outcome = reset_pin(
                channel,
                life,
                resident_code=code,
                kind=kind,
                new_pin=new_pin,
                face_to_face_confirmed=True,
            )
    payload = {
        "auth_serial": outcome.auth_serial,
        "kind": outcome.kind,
        "new_value": outcome.new_value,
        "tries_left": outcome.remaining,
    }
    emit(payload, as_json, lambda: print_fields(payload))


def renew_on_card_command(
    ctx: typer.Context,
    auth: Annotated[bool, typer.Option("--auth/--no-auth", help="Renew the auth key.")] = True,
    sign: Annotated[bool, typer.Option("--sign/--no-sign", help="Renew the sign key.")] = True,
    move: Annotated[
        bool,
        typer.Option("--move", help="A new sign certificate after a move (sign only)."),
    ] = False,
    resident_code: ResidentOption = None,
    persona: PersonaOption = None,
    face_to_face: FaceToFaceOption = False,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    as_json: JsonOption = False,
) -> None:
    """電子証明書の更新 on the same card: new keys on the card, new certificates, the old
    serials chained to the new ones and revoked. No PIN is needed."""
    state: CliState = ctx.obj
    code = resident_code_from(resident_code, persona, as_json)
    from terminal.counter.cardlife import renewal_kinds

    kinds = renewal_kinds(auth=auth, sign=sign, move=move)
    if not kinds:
        fail(
            "nothing to renew: give --auth and/or --sign",
            code="USAGE",
            as_json=as_json,
        )
    with cli_errors(as_json):
        _require_face_to_face(face_to_face)
        with (
            _life(db, pki_dir, operator, terminal) as life,
            state.channel(as_json=as_json) as channel,
        ):
            from terminal.counter.cardlife import renew_on_card

            outcome = renew_on_card(
                channel,
                life,
                resident_code=code,
                kinds=kinds,
                face_to_face_confirmed=True,
                move=move,
            )
    result = outcome.result
    payload = {
        "integrated_number": result.integrated_number,
        "old_auth_serial": result.old_auth_serial,
        "new_auth_serial": result.new_auth_serial,
        "old_sign_serial": result.old_sign_serial,
        "new_sign_serial": result.new_sign_serial,
        "move": outcome.move,
        "reconciled_first": outcome.reconciled is not None,
    }
    emit(payload, as_json, lambda: print_fields(payload))


def reconcile_command(
    ctx: typer.Context,
    db: DbOption = None,
    pki_dir: PkiOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    as_json: JsonOption = False,
) -> None:
    """Complete what a card pulled during a counter operation left undone: the registry
    and the issuing authority follow the keys the card holds."""
    from terminal.counter.cardlife import reconcile

    state: CliState = ctx.obj
    with (
        cli_errors(as_json),
        _life(db, pki_dir, operator, terminal) as life,
        state.channel(as_json=as_json) as channel,
    ):
        outcome = reconcile(channel, life)
    committed = outcome.committed
    payload = {
        "changed": outcome.changed,
        "committed_auth_serial": committed.new_auth_serial if committed else None,
        "committed_sign_serial": committed.new_sign_serial if committed else None,
        "revoked_unused": list(outcome.revoked_unused),
        "revoked_replaced": list(outcome.revoked_replaced),
    }
    emit(payload, as_json, lambda: print_fields(payload))


def register(app: typer.Typer) -> None:
    app.command("set-pins")(set_pins_command)
    app.command("reset-pin")(reset_pin_command)
    app.command("renew-on-card")(renew_on_card_command)
    app.command("reconcile-card")(reconcile_command)
