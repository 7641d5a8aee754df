"""Card-face commands (`--card FILE` or `--reader NAME`):

- `surface show|photo|verify --code A|B [--out DIR]`: the card-surface applet's face,
  unlocked by 照合番号A or B, its signature checked against trusted issuer keys;
- `surface age`: the age record, unlocked by the birth date (Japanese era YYMMDD);
- `card-info --code A|B`: the card-info applet without its PIN (A: My Number, B: the
  basic 4 facts);
- `common`: the common card applet's record (serial, municipality, expiry).

Codes are read like PINs (no echo, MYNATERM_PIN, or --pin-stdin), never from argv.
Pillow and the jpki sessions load only when a command runs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from terminal.cli.context import CliState
from terminal.cli.errors import cli_errors
from terminal.cli.output import JsonOption, console, emit, fail
from terminal.cli.pins import PinStdinOption, read_pin

if TYPE_CHECKING:
    from terminal.cardface import SurfaceReading

surface_app = typer.Typer(help="The card-surface applet (券面事項確認 AP).", no_args_is_help=True)


class Code(StrEnum):
    A = "A"
    B = "B"


CODE_LABELS = {Code.A: "照合番号A (12-digit My Number)", Code.B: "照合番号B (14 digits)"}
CodeOption = Annotated[Code, typer.Option("--code", help="A (My Number) or B (14 digits).")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write the images (photo PNG/JP2, name, address).")
]
TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        help="Issuer keys (<id>.pem) that certify the card's CV certificates "
        "[default: $MYNATERM_HOME/pki/card-issuer/trust].",
    ),
]


def _write_images(out: Path, images: dict[str, bytes]) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in images.items():
        (out / name).write_bytes(data)
    return [str(out / name) for name in images]


def _read(
    ctx: typer.Context, code: Code, trust: Path | None, pin_stdin: bool, as_json: bool
) -> SurfaceReading:
    from terminal.cardface import read_surface, trust_directory, trusted_keys

    state: CliState = ctx.obj
    keys = trusted_keys(trust_directory(trust))
    value = read_pin(CODE_LABELS[code], pin_stdin=pin_stdin)
    with state.channel(as_json=as_json) as channel:
        return read_surface(channel, code.value, value, keys)


@surface_app.command("show")
def show(
    ctx: typer.Context,
    code: CodeOption = Code.A,
    out: OutOption = None,
    trust: TrustOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """The printed facts and the signature verdict; --out writes the images."""
    with cli_errors(as_json):
        reading = _read(ctx, code, trust, pin_stdin, as_json)
        payload: dict[str, Any] = reading.summary()
        if out is not None:
            payload["files"] = _write_images(out, reading.images())

    def human() -> None:
        for key, value in payload.items():
            console.print(f"[bold]{key:>10}[/]: {value}", highlight=False)

    emit(payload, as_json, human)


@surface_app.command("photo")
def photo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory for photo.png and photo.jp2.")],
    code: CodeOption = Code.A,
    trust: TrustOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """The face photo, as PNG (for display) and the card's own JPEG 2000."""
    with cli_errors(as_json):
        reading = _read(ctx, code, trust, pin_stdin, as_json)
        images = reading.images()
        files = _write_images(out, {k: images[k] for k in ("photo.png", "photo.jp2")})
    payload = {"files": files, "signature": reading.verdict, "photo": reading.summary()["photo"]}
    emit(payload, as_json, lambda: console.print("\n".join(files), highlight=False))


@surface_app.command("verify")
def verify(
    ctx: typer.Context,
    code: CodeOption = Code.A,
    trust: TrustOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check the face signature (three hashes) against the CV certificate and the
    trusted issuer keys. Fails unless it verifies."""
    from terminal.cardface import trust_directory

    with cli_errors(as_json):
        reading = _read(ctx, code, trust, pin_stdin, as_json)
    if reading.verdict != "valid":
        fail(
            f"no trusted issuer keys in {trust_directory(trust)}: nothing was checked",
            code="CARD_ISSUER_UNTRUSTED",
            as_json=as_json,
        )
    payload = {"signature": "valid", "issuer": reading.issuer}
    emit(payload, as_json, lambda: console.print(f"valid (issuer {reading.issuer})"))


@surface_app.command("age")
def age(
    ctx: typer.Context,
    trust: TrustOption = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """The age record (EF 0001), unlocked by the birth date as six era digits
    (1980-02-17 is 昭和55 -> 550217)."""
    from jpki.surface_ap import SurfaceSession
    from terminal.cardface import trust_directory, trusted_keys

    state: CliState = ctx.obj
    with cli_errors(as_json):
        keys = trusted_keys(trust_directory(trust))
        value = read_pin("birth date (era YYMMDD)", pin_stdin=pin_stdin)
        with state.channel(as_json=as_json) as channel:
            session = SurfaceSession(channel)
            session.verify_birth_date(value)
            record = session.read_age_record()
            verdict = "not-checked"
            if keys:
                session.verify_age_record(record, keys)
                verdict = "valid"
    payload = {"birth_date": record.birth_date.isoformat(), "signature": verdict}
    emit(payload, as_json, lambda: console.print(payload, highlight=False))


def card_info(
    ctx: typer.Context,
    code: CodeOption,
    show_number: Annotated[
        bool, typer.Option("--show-number", help="Show the full My Number (authorised use only).")
    ] = False,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """The card-info applet without its PIN: 照合番号A opens the My Number (masked unless
    --show-number), 照合番号B the basic 4 facts."""
    from jpki.cardinfo_ap import CardInfoSession

    state: CliState = ctx.obj
    payload: dict[str, Any]
    with cli_errors(as_json):
        value = read_pin(CODE_LABELS[code], pin_stdin=pin_stdin)
        with state.channel(as_json=as_json) as channel:
            session = CardInfoSession(channel)
            session.verify_code(code.value, value)
            if code is Code.A:
                number = session.read_my_number()
                payload = {"my_number": number.reveal() if show_number else number.masked}
            else:
                facts = session.read_basic_four()
                payload = {
                    "name": facts.name,
                    "address": facts.address,
                    "birth_date": facts.birth_date.isoformat(),
                    "sex": facts.sex,
                    "sex_text": facts.sex_text,
                }

    def human() -> None:
        for key, item in payload.items():
            console.print(f"[bold]{key:>10}[/]: {item}", highlight=False)

    emit(payload, as_json, human)


def common(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The common card applet's record: card serial, municipality, expiry (no PIN)."""
    from jpki.common_ap import CommonSession

    state: CliState = ctx.obj
    with cli_errors(as_json), state.channel(as_json=as_json) as channel:
        record = CommonSession(channel).read_card_record()
    payload = {
        "serial": record.serial,
        "municipality": record.municipality,
        "expiry": record.expiry.isoformat(),
    }
    emit(payload, as_json, lambda: console.print(payload, highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(surface_app, name="surface")
    app.command("card-info")(card_info)
    app.command("common")(common)
