"""`mynaterm emulator`: personas and software card files.

A card file is the software card's memory, private keys included (see
simulators.card.state); it is written with mode 0600. PINs come from MYNATERM_AUTH_PIN,
MYNATERM_SIGN_PIN and MYNATERM_CARDINFO_PIN when set, else the persona's documented
test PINs; never from the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from simulators.personas import Persona

from jpki.constants import PinKind
from simulators.card.options import CardOptions
from simulators.card.software_card import HOLDER_PINS
from terminal.cli.output import JsonOption, console, emit, fail
from terminal.home import mynaterm_home

if TYPE_CHECKING:
    from simulators.card import SoftwareCard

emulator_app = typer.Typer(
    help="Software card: personas and card files (the file holds the card's keys).",
    no_args_is_help=True,
)

# --behave names (kebab case) for the CardOptions switches.
CARD_BEHAVIOURS = {f.replace("_", "-"): f for f in CardOptions.__dataclass_fields__}
SEX_TEXT = {"1": "male", "2": "female", "9": "not applicable"}
PIN_VARIABLES = {
    PinKind.AUTH: "MYNATERM_AUTH_PIN",
    PinKind.SIGN: "MYNATERM_SIGN_PIN",
    PinKind.CARD_INFO: "MYNATERM_CARDINFO_PIN",
}


def persona_summary(persona: Persona) -> dict[str, Any]:
    """What may be shown about a persona: the My Number masked, no PINs."""
    return {
        "id": persona.id,
        "name": persona.name,
        "birth_date": persona.birth_date.isoformat(),
        "sex": persona.sex,
        "sex_text": SEX_TEXT.get(persona.sex, "unknown"),
        "my_number": persona.my_number.masked,
        "prefecture": persona.prefecture,
        "city": persona.city,
    }


def _certificate_summary(der: bytes) -> dict[str, Any]:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {
        "serial": str(cert.serial_number),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def card_summary(card: SoftwareCard, path: Path) -> dict[str, Any]:
    return {
        "card": str(path),
        "persona_id": card.persona_id,
        "t0": card.t0,
        "reselect_clears_pins": card.reselect_clears_pins,
        "behaviours": sorted(
            name for name, field in CARD_BEHAVIOURS.items() if getattr(card.options, field)
        ),
        "atr": card.atr.hex(" ").upper(),
        "pin_tries_left": {kind.value: card.pin_remaining(kind) for kind in PinKind},
        "pins_set": {kind.value: card.pin_is_set(kind) for kind in HOLDER_PINS},
        "issuer_key": card.has_issuer_key,
        "auth_certificate": _certificate_summary(card.auth_certificate),
        "sign_certificate": _certificate_summary(card.sign_certificate),
    }


@emulator_app.command("personas")
def personas(as_json: JsonOption = False) -> None:
    """List the personas a software card can be made for (personas.toml)."""
    from rich.table import Table

    from simulators.personas import PersonaError, load_personas

    try:
        entries = [persona_summary(p) for p in load_personas()]
    except PersonaError as exc:
        fail(str(exc), code="PERSONA", as_json=as_json)

    def human() -> None:
        # Ids and masked numbers are what people copy: never let them be truncated.
        table = Table()
        table.add_column("id", min_width=max((len(e["id"]) for e in entries), default=2))
        table.add_column("name")
        table.add_column("birth date", min_width=10)
        table.add_column("sex")
        table.add_column("My Number", min_width=12)
        table.add_column("prefecture / city")
        for entry in entries:
            table.add_row(
                entry["id"],
                entry["name"],
                entry["birth_date"],
                {"not applicable": "n/a"}.get(entry["sex_text"], entry["sex_text"]),
                entry["my_number"],
                f"{entry['prefecture']} {entry['city']}",
            )
        console.print(table)

    emit({"personas": entries}, as_json, human)


@emulator_app.command("create")
def create(
    persona_id: Annotated[str, typer.Option("--persona", help="Persona id (see `personas`).")],
    out: Annotated[Path, typer.Option("--out", help="Card file to write (mode 0600).")],
    pki: Annotated[
        Path | None,
        typer.Option("--pki", help="Test PKI directory [default: $MYNATERM_HOME/pki]."),
    ] = None,
    t0: Annotated[bool, typer.Option("--t0", help="Answer in T=0 style (61xx / 6Cxx).")] = False,
    clear_pins_on_reselect: Annotated[
        bool,
        typer.Option(
            "--clear-pins-on-reselect/--keep-pins-on-reselect",
            help=(
                "Re-selecting the current applet clears verified PINs (default: keeps "
                "them, as real cards do)."
            ),
        ),
    ] = False,
    unset_pins: Annotated[
        bool,
        typer.Option(
            "--unset-pins",
            help="A card as it reaches the issuance counter: no PIN set yet (the holder "
            "sets them there; VERIFY answers 6A88 until then).",
        ),
    ] = False,
    behaviours: Annotated[
        list[str] | None,
        typer.Option(
            "--behave",
            help=(
                "Switch on a behaviour other cards show (repeatable): "
                + ", ".join(CARD_BEHAVIOURS)
                + ". See simulators/card/options.py."
            ),
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Make a new software card for a persona, certified by the test PKI."""
    from simulators.card import SoftwareCard
    from simulators.personas import PersonaError, get_persona
    from simulators.pki import PkiError, TestPki

    unknown = sorted(set(behaviours or ()) - set(CARD_BEHAVIOURS))
    if unknown:
        fail(
            f"unknown --behave {', '.join(unknown)}; one of {', '.join(CARD_BEHAVIOURS)}",
            code="USAGE",
            as_json=as_json,
        )
    if out.exists() and not force:
        fail(f"{out} exists; give --force to replace it", code="EXISTS", as_json=as_json)
    if not out.parent.is_dir():
        fail(f"directory {out.parent} does not exist", code="USAGE", as_json=as_json)
    try:
        persona = get_persona(persona_id)
    except PersonaError as exc:
        fail(str(exc), code="PERSONA", as_json=as_json)
    pki_dir = pki or mynaterm_home() / "pki"
    try:
        pki_dir.mkdir(parents=True, exist_ok=True)
        issuer = TestPki.open_or_create(pki_dir)
        options = CardOptions(**{CARD_BEHAVIOURS[name]: True for name in behaviours or ()})
        card = SoftwareCard.create(
            persona,
            issuer,
            reselect_clears_pins=clear_pins_on_reselect or options.reselect_clears_pins,
            t0=t0,
            options=options,
            unset_pins=unset_pins,
        )
        card.save(out)
    except PkiError as exc:
        fail(f"test PKI in {pki_dir}: {exc}", code=exc.code, as_json=as_json)
    except ValueError as exc:  # a PIN from the environment of the wrong format
        fail(str(exc), code="PIN_FORMAT", as_json=as_json)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}", code="IO", as_json=as_json)
    payload = card_summary(card, out)
    payload["pki"] = str(pki_dir)
    payload["pin_source"] = {
        kind.value: "not set (set at the counter)"
        if unset_pins
        else "environment"
        if os.environ.get(var)
        else "persona test PIN"
        for kind, var in PIN_VARIABLES.items()
    }

    def human() -> None:
        console.print(f"[green]created[/] software card for {persona.id} in {out}")
        console.print(f"  auth certificate: {payload['auth_certificate']['subject']}")
        console.print(
            f"  PINs: {', '.join(f'{k} from {v}' for k, v in payload['pin_source'].items())}"
        )
        console.print("  [yellow]the file holds the card's private keys: keep it private[/]")

    emit(payload, as_json, human)


@emulator_app.command("info")
def info(
    card_file: Annotated[Path, typer.Argument(help="Software card file.")],
    as_json: JsonOption = False,
) -> None:
    """Show a card file's persona, options, PIN tries left and certificates."""
    from simulators.card import CardStateError, SoftwareCard

    try:
        card = SoftwareCard.load(card_file)
        payload = card_summary(card, card_file)
    except (CardStateError, LookupError, ValueError) as exc:
        fail(str(exc), code="CARD_FILE", as_json=as_json)

    def human() -> None:
        for key, value in payload.items():
            console.print(f"[bold]{key:>22}[/]: {value}", highlight=False)

    emit(payload, as_json, human)


def register(app: typer.Typer) -> None:
    app.add_typer(emulator_app, name="emulator")
