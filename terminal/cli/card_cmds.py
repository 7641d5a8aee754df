"""Card commands: certificates, PINs, card-info, raw signatures (`--card` or `--reader`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from jpki.constants import CertKind, KeyKind, PinKind
from terminal.cli.context import CliState
from terminal.cli.errors import cli_errors
from terminal.cli.output import JsonOption, console, emit, serial_text
from terminal.cli.pins import PinStdinOption, read_pin

cert_app = typer.Typer(help="Read the card's certificates.", no_args_is_help=True)
pin_app = typer.Typer(help="PIN status, verification and change.", no_args_is_help=True)
pkey_app = typer.Typer(help="Raw signatures with the card's keys.", no_args_is_help=True)

PIN_LABELS = {
    PinKind.AUTH: "auth (4 digits)",
    PinKind.SIGN: "sign (6-16 A-Z 0-9)",
    PinKind.CARD_INFO: "card-info (4 digits)",
}


def certificate_summary(kind: CertKind, der: bytes) -> dict[str, Any]:
    import hashlib

    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {
        "kind": kind.value,
        "serial": str(cert.serial_number),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": hashlib.sha256(der).hexdigest(),
        "size": len(der),
    }


@cert_app.command("read")
def cert_read(
    ctx: typer.Context,
    kind: Annotated[CertKind, typer.Argument(help="auth | auth-ca | sign | sign-ca")],
    fmt: Annotated[str, typer.Option("--format", help="pem | der | text")] = "pem",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Read a certificate. The signature certificate needs the sign PIN."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from jpki.jpki_ap import JpkiSession

    state: CliState = ctx.obj
    if fmt not in ("pem", "der", "text"):
        raise typer.BadParameter("--format is pem, der or text")
    with cli_errors(as_json), state.channel(as_json=as_json) as channel:
        session = JpkiSession(channel)
        if kind is CertKind.SIGN:
            session.verify_pin(PinKind.SIGN, read_pin("sign", pin_stdin=pin_stdin))
        der = session.read_certificate(kind)
    cert = x509.load_der_x509_certificate(der)
    pem = cert.public_bytes(Encoding.PEM)
    summary = certificate_summary(kind, der)
    if as_json:
        emit({**summary, "pem": pem.decode()}, True)
        return
    if fmt == "text":
        for key, value in summary.items():
            shown = serial_text(value) if key == "serial" else value
            console.print(f"[bold]{key:>10}[/]: {shown}", highlight=False)
        return
    data = der if fmt == "der" else pem
    if out is not None:
        out.write_bytes(data)
    elif fmt == "der":
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode())


@pin_app.command("status")
def pin_status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Remaining tries of every PIN, spending none."""
    from jpki.cardinfo_ap import CardInfoSession
    from jpki.jpki_ap import JpkiSession

    state: CliState = ctx.obj
    with cli_errors(as_json), state.channel(as_json=as_json) as channel:
        jpki_session = JpkiSession(channel)
        statuses = [jpki_session.pin_status(PinKind.AUTH), jpki_session.pin_status(PinKind.SIGN)]
        statuses.append(CardInfoSession(channel).pin_status())
    rows = [
        {
            "pin": s.kind.value,
            "remaining": s.remaining,
            "max": s.max_tries,
            "blocked": s.blocked,
            "verified": s.verified,
        }
        for s in statuses
    ]

    def human() -> None:
        for row in rows:
            text = "[red]BLOCKED[/]" if row["blocked"] else f"{row['remaining']}/{row['max']} left"
            console.print(f"{row['pin']:>9}: {text}")

    emit({"pins": rows}, as_json, human)


@pin_app.command("verify")
def pin_verify(
    ctx: typer.Context,
    kind: Annotated[PinKind, typer.Argument(help="auth | sign | cardinfo")],
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Verify a PIN once (a wrong PIN spends a try; a blocked PIN is not sent)."""
    from jpki.cardinfo_ap import CardInfoSession
    from jpki.jpki_ap import JpkiSession

    state: CliState = ctx.obj
    with cli_errors(as_json):
        pin = read_pin(PIN_LABELS[kind], pin_stdin=pin_stdin)
        with state.channel(as_json=as_json) as channel:
            if kind is PinKind.CARD_INFO:
                CardInfoSession(channel).verify_pin(pin)
            else:
                JpkiSession(channel).verify_pin(kind, pin)
    emit(
        {"pin": kind.value, "verified": True},
        as_json,
        lambda: console.print(f"{kind.value} PIN verified"),
    )


@pin_app.command("change")
def pin_change(
    ctx: typer.Context,
    kind: Annotated[PinKind, typer.Argument(help="auth | sign | cardinfo")],
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a PIN: current from MYNATERM_PIN, new from MYNATERM_NEW_PIN (or prompts,
    or two lines on stdin)."""
    from jpki.cardinfo_ap import CardInfoSession
    from jpki.jpki_ap import JpkiSession

    state: CliState = ctx.obj
    with cli_errors(as_json):
        current = read_pin(PIN_LABELS[kind], pin_stdin=pin_stdin)
        new = read_pin(PIN_LABELS[kind], pin_stdin=pin_stdin, new=True)
        with state.channel(as_json=as_json) as channel:
            if kind is PinKind.CARD_INFO:
                CardInfoSession(channel).change_pin(current, new)
            else:
                JpkiSession(channel).change_pin(kind, current, new)
    emit(
        {"pin": kind.value, "changed": True},
        as_json,
        lambda: console.print(f"{kind.value} PIN changed"),
    )


def info(
    ctx: typer.Context,
    show_number: Annotated[
        bool, typer.Option("--show-number", help="Show the full My Number (authorised use only).")
    ] = False,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """The card-info applet: My Number (masked unless --show-number) and the basic 4
    facts, checked against the card's integrity record. Needs the card-info PIN."""
    from jpki.cardinfo_ap import CardInfoSession

    state: CliState = ctx.obj
    with cli_errors(as_json):
        pin = read_pin(PIN_LABELS[PinKind.CARD_INFO], pin_stdin=pin_stdin)
        with state.channel(as_json=as_json) as channel:
            session = CardInfoSession(channel)
            session.verify_pin(pin)
            number = session.read_my_number()
            facts = session.read_basic_four()
            session.check_integrity()
    payload = {
        "my_number": number.reveal() if show_number else number.masked,
        "name": facts.name,
        "address": facts.address,
        "birth_date": facts.birth_date.isoformat(),
        "sex": facts.sex,
        "sex_text": facts.sex_text,
        "integrity": "ok",
    }

    def human() -> None:
        for key, value in payload.items():
            console.print(f"[bold]{key:>10}[/]: {value}", highlight=False)

    emit(payload, as_json, human)


@pkey_app.command("sign")
def pkey_sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    key: Annotated[KeyKind, typer.Option("--key", help="auth | sign")] = KeyKind.AUTH,
    out: Annotated[Path | None, typer.Option("--out", help="Write the raw signature here.")] = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Raw RSA PKCS#1 v1.5 signature over the file's SHA-256 with the card's key."""
    import base64
    import hashlib

    from jpki.jpki_ap import JpkiSession

    state: CliState = ctx.obj
    digest = hashlib.sha256(file.read_bytes()).digest()
    with cli_errors(as_json):
        pin = read_pin(PIN_LABELS[key.pin], pin_stdin=pin_stdin)
        with state.channel(as_json=as_json) as channel:
            session = JpkiSession(channel)
            session.verify_pin(key.pin, pin)
            signature = session.sign(key, digest, "sha256")
    if out is not None:
        out.write_bytes(signature)
    payload = {
        "key": key.value,
        "hash": "sha256",
        "digest": digest.hex(),
        "signature": base64.b64encode(signature).decode(),
    }
    emit(payload, as_json, lambda: console.print(payload["signature"], highlight=False))


def register(app: typer.Typer) -> None:
    app.add_typer(cert_app, name="cert")
    app.add_typer(pin_app, name="pin")
    app.add_typer(pkey_app, name="pkey")
    app.command("info")(info)
