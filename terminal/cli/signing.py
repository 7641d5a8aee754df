"""Login tokens and document signatures from the command line.

`auth challenge|respond|verify` run the kiosk login by hand (the challenge store is a
small file, so single use holds across processes); `sign`/`verify` make and check
detached CAdES-BES signatures, `sign-pdf`/`verify-pdf` PAdES ones. PINs come from a
no-echo prompt, MYNATERM_PIN or --pin-stdin, never argv; the PIN status is read first,
so a blocked PIN is reported without sending it, and VERIFY is sent at most once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from jpki.auth import FileChallengeStore
    from jpki.jpki_ap import JpkiSession
from jpki.clock import utc_now
from jpki.constants import CertKind, KeyKind, PinKind
from terminal.cli.context import CliState
from terminal.cli.errors import cli_errors
from terminal.cli.output import (
    JsonOption,
    console,
    emit,
    fail,
    library_logs_at_debug,
    serial_text,
)
from terminal.cli.pins import PinStdinOption, read_pin

auth_app = typer.Typer(help="PIN-gated login with the auth certificate.", no_args_is_help=True)

PkiOption = Annotated[
    Path | None,
    typer.Option(
        "--pki", help="Test PKI directory for trust anchors and CRLs (default: $MYNATERM_HOME/pki)."
    ),
]
OriginOption = Annotated[
    str, typer.Option("--origin", help="The relying party's origin, e.g. https://portal.example")
]

# pyHanko's loggers: their records go to DEBUG, never to the user's stderr.
PYHANKO_LOGGERS = ("pyhanko", "pyhanko_certvalidator")

_PIN_LABELS = {PinKind.AUTH: "auth (4 digits)", PinKind.SIGN: "sign (6-16 A-Z 0-9)"}


def _challenge_store() -> FileChallengeStore:
    from jpki.auth import FileChallengeStore
    from terminal.home import mynaterm_home

    return FileChallengeStore(mynaterm_home() / "challenges.json")


def _unlock(session: JpkiSession, kind: PinKind, *, pin_stdin: bool, as_json: bool) -> None:
    """Read the PIN status (no try spent); refuse a blocked PIN without sending it; then
    ask for the PIN and VERIFY exactly once."""
    status = session.pin_status(kind)
    if status.blocked:
        fail(
            f"the {kind.value} PIN is blocked; it can be reset only at the municipal counter",
            code="PIN_BLOCKED",
            as_json=as_json,
            remaining=0,
        )
    if status.verified:
        return
    pin = read_pin(_PIN_LABELS[kind], pin_stdin=pin_stdin)
    session.verify_pin(kind, pin, check_status_first=False)


def _read_input(path: Path) -> bytes:
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()


# --- login -------------------------------------------------------------------------


@auth_app.command("challenge")
def auth_challenge(
    origin: OriginOption,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Session id to bind (default: a new random one)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a single-use challenge (nonce) for ORIGIN, valid 5 minutes."""
    import secrets

    with cli_errors(as_json):
        challenge = _challenge_store().issue(session or secrets.token_urlsafe(16), origin)
    payload = {
        "nonce": challenge.nonce,
        "session_id": challenge.session_id,
        "origin": challenge.origin,
        "expires_at": challenge.expires_at.isoformat(),
    }

    def human() -> None:
        console.print(f"nonce:      {challenge.nonce}")
        console.print(f"session id: {challenge.session_id}")
        console.print(f"expires at: {challenge.expires_at.isoformat(timespec='seconds')}")

    emit(payload, as_json, human)


@auth_app.command("respond")
def auth_respond(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Option("--challenge", help="The nonce to answer.")],
    origin: OriginOption,
    out: Annotated[Path | None, typer.Option("--out", help="Write the token here.")] = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Have the card answer a challenge: asks the auth PIN, signs with the AUTH key."""
    from jpki.auth import create_auth_token
    from jpki.jpki_ap import JpkiSession
    from jpki.signer import JpkiCardSigner

    state: CliState = ctx.obj
    with cli_errors(as_json), state.channel(as_json=as_json) as channel:
        session = JpkiSession(channel)
        _unlock(session, PinKind.AUTH, pin_stdin=pin_stdin, as_json=as_json)
        token = create_auth_token(JpkiCardSigner(session, KeyKind.AUTH), origin, challenge)
    text = token.to_json()
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        emit({"token_file": str(out)}, as_json, lambda: console.print(f"token written to {out}"))
    elif as_json:
        emit({"token": text}, as_json)
    else:
        sys.stdout.write(text + "\n")


@auth_app.command("verify")
def auth_verify(
    token_file: Annotated[Path, typer.Argument(help="Token file ('-' for stdin).")],
    origin: OriginOption,
    challenge: Annotated[str, typer.Option("--challenge", help="The nonce it answers.")],
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            help="Session id the challenge was issued to (default: the one recorded with it).",
        ),
    ] = None,
    pki_dir: PkiOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a login token: challenge (single use), signature, chain, revocation."""
    from jpki.auth import AuthTokenValidator
    from terminal.dev.local import open_local_pki, validator_for

    with cli_errors(as_json):
        raw = _read_input(token_file)
        store = _challenge_store()
        # The CLI is its own relying party: without --session it uses the session the
        # challenge was recorded with (a taken or unknown nonce then fails in `take`).
        session_id = session or store.peek_session(challenge) or "-"
        pki = open_local_pki(pki_dir)
        result = AuthTokenValidator(validator_for(pki), store, origin).validate(
            raw, session_id, challenge
        )
    payload: dict[str, Any] = {
        "authenticated": True,
        "serial": str(result.serial),
        "serial_hex": f"{result.serial:x}",
        "issuer_key_id": result.issuer_key_id.hex() if result.issuer_key_id else None,
        "subject_cn": result.subject_cn,
        "checked_at": result.record.checked_at.isoformat(),
        "revocation": {
            "source": result.record.revocation_source,
            "status": result.record.revocation_status,
        },
    }

    def human() -> None:
        console.print(f"[green]authenticated[/]: certificate serial {serial_text(result.serial)}")
        console.print(
            f"revocation: {result.record.revocation_status} ({result.record.revocation_source})"
        )

    emit(payload, as_json, human)


# --- detached CMS --------------------------------------------------------------------


def sign_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The document to sign.", exists=True, dir_okay=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .p7s signature.")],
    with_ca: Annotated[
        bool, typer.Option("--with-ca/--without-ca", help="Include the sign CA certificate.")
    ] = True,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Sign FILE with the card's signature key (asks the sign PIN): detached CAdES-BES."""
    from jpki.cms import sign_cms
    from jpki.jpki_ap import JpkiSession
    from jpki.signer import JpkiCardSigner

    state: CliState = ctx.obj
    content = file.read_bytes()
    with cli_errors(as_json), state.channel(as_json=as_json) as channel:
        session = JpkiSession(channel)
        _unlock(session, PinKind.SIGN, pin_stdin=pin_stdin, as_json=as_json)
        extra = (session.read_certificate(CertKind.SIGN_CA),) if with_ca else ()
        signature = sign_cms(
            content, JpkiCardSigner(session, KeyKind.SIGN), extra_certificates=extra
        )
    out.write_bytes(signature)
    emit(
        {"signature_file": str(out), "size": len(signature)},
        as_json,
        lambda: console.print(f"signature written to {out}"),
    )


def _four(facts: Any) -> dict[str, str] | None:
    if facts is None:
        return None
    return {
        "name": facts.name,
        "sex": facts.sex,
        "birth_date": facts.birth_date,
        "address": facts.address,
    }


def verify_command(
    file: Annotated[Path, typer.Argument(help="The signed document.", exists=True, dir_okay=False)],
    signature: Annotated[
        Path, typer.Option("--signature", help="The .p7s file.", exists=True, dir_okay=False)
    ],
    pki_dir: PkiOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a detached signature: content, signature, signer certificate, revocation."""
    from jpki.cms import verify_cms
    from terminal.dev.local import open_local_pki, validator_for

    with cli_errors(as_json):
        pki = open_local_pki(pki_dir)
        result = verify_cms(file.read_bytes(), signature.read_bytes(), validator_for(pki))
    payload = {
        "valid": True,
        "serial": str(result.serial),
        "subject": result.subject,
        "hash": result.hash_name,
        "signing_time": result.signing_time.isoformat() if result.signing_time else None,
        "validated_at": result.validated_at.isoformat(),
        "signer": _four(result.basic_four),
    }

    def human() -> None:
        console.print(
            f"[green]valid signature[/] by certificate serial {serial_text(result.serial)}"
        )
        if result.basic_four is not None:
            console.print(f"signer: {result.basic_four.name}, {result.basic_four.address}")
        if result.signing_time:
            console.print(f"claimed signing time: {result.signing_time.isoformat()}")

    emit(payload, as_json, human)


# --- PDF ---------------------------------------------------------------------------------


def sign_pdf_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="PDF to sign.", exists=True, dir_okay=False)],
    target: Annotated[Path, typer.Argument(help="Where to write the signed PDF.")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    location: Annotated[str | None, typer.Option("--location")] = None,
    pin_stdin: PinStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Sign a PDF (PAdES) with the card's signature key (asks the sign PIN)."""
    from jpki.jpki_ap import JpkiSession
    from jpki.pdf import sign_pdf
    from jpki.signer import JpkiCardSigner

    state: CliState = ctx.obj
    pdf = source.read_bytes()
    with (
        cli_errors(as_json),
        library_logs_at_debug(*PYHANKO_LOGGERS),
        state.channel(as_json=as_json) as channel,
    ):
        session = JpkiSession(channel)
        _unlock(session, PinKind.SIGN, pin_stdin=pin_stdin, as_json=as_json)
        ca = session.read_certificate(CertKind.SIGN_CA)
        signed = sign_pdf(
            pdf,
            JpkiCardSigner(session, KeyKind.SIGN),
            reason=reason,
            location=location,
            ca_certificates=(ca,),
        )
    target.write_bytes(signed)
    emit(
        {"signed_pdf": str(target), "size": len(signed)},
        as_json,
        lambda: console.print(f"signed PDF written to {target}"),
    )


def verify_pdf_command(
    file: Annotated[Path, typer.Argument(help="Signed PDF.", exists=True, dir_okay=False)],
    pki_dir: PkiOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate every signature of a PDF with pyHanko (trust roots and CRLs from the
    test PKI) and the project's validator (chain, validity, revocation, hard fail)."""
    from jpki.pdf import verify_pdf
    from terminal.dev.local import crls_of, open_local_pki, validator_for

    with cli_errors(as_json), library_logs_at_debug(*PYHANKO_LOGGERS) as pyhanko_messages:
        pki = open_local_pki(pki_dir)
        now = utc_now()
        results = verify_pdf(
            file.read_bytes(),
            pki.trust_anchors("sign"),
            crls=crls_of(pki, "sign", now),
            checker=validator_for(pki),
            at=now,
        )
    rows = [
        {
            "field": r.field_name,
            "ok": r.ok,
            "intact": r.intact,
            "trusted": r.trusted,
            "covers_whole_document": r.covers_whole_document,
            "revoked": r.revoked,
            "pyhanko_revocation_checked": r.pyhanko_revocation_checked,
            "pyhanko_summary": r.pyhanko_summary,
            "serial": str(r.signer_serial),
            "signing_time": r.signing_time.isoformat() if r.signing_time else None,
            "signer": _four(r.basic_four),
        }
        for r in results
    ]
    all_ok = all(r.ok for r in results)

    def human() -> None:
        for row in rows:
            mark = "[green]valid[/]" if row["ok"] else "[red]NOT valid[/]"
            console.print(
                f"{row['field']}: {mark} ({row['pyhanko_summary']}), serial {row['serial']}"
            )
        if pyhanko_messages:
            console.print(
                f"pyHanko reported {len(pyhanko_messages)} problem(s), first: "
                f"{pyhanko_messages[0]}",
                highlight=False,
                markup=False,
            )

    payload = {"valid": all_ok, "signatures": rows, "pyhanko_messages": pyhanko_messages}
    emit(payload, as_json, human)
    if not all_ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app, name="auth")
    app.command("sign")(sign_command)
    app.command("verify")(verify_command)
    app.command("sign-pdf")(sign_pdf_command)
    app.command("verify-pdf")(verify_pdf_command)
