"""`mynaterm pki ...`: run the test JPKI (simulators.pki) from the shell: create it,
issue and revoke certificates, ask for a serial's status, serve CRLs and OCSP."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

from terminal.cli.errors import cli_errors
from terminal.cli.options import ReasonOption, parse_reason
from terminal.cli.output import JsonOption, console, emit, fail, serial_text

pki_app = typer.Typer(
    help="The test JPKI: CAs, card certificates, revocation, CRLs and OCSP.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="PKI directory (default: $MYNATERM_HOME/pki)."),
]


def _directory(directory: Path | None) -> Path:
    from terminal.home import mynaterm_home

    return directory if directory is not None else mynaterm_home() / "pki"


def _open(directory: Path | None) -> Any:
    from simulators.pki import TestPki

    return TestPki.open(_directory(directory))


def _parse_serial(text: str) -> int:
    """Decimal, or hex with a 0x prefix or as openssl prints it (6D:5A:...)."""
    cleaned = text.strip().replace(":", "") if ":" in text else text.strip()
    try:
        if cleaned.lower().startswith("0x") or ":" in text:
            value = int(cleaned, 16)
        else:
            value = int(cleaned, 10)
    except ValueError:
        raise typer.BadParameter(f"serial {text!r} is not decimal, 0x-hex or AA:BB hex") from None
    if value <= 0:
        raise typer.BadParameter("a serial number is positive")
    return value


def _parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _pki_summary(pki: Any) -> dict[str, Any]:
    from cryptography import x509

    cas: dict[str, Any] = {}
    for kind in ("auth", "sign"):
        current = pki.generation(kind).name
        cas[kind] = {
            "ocsp_url": pki.ocsp_url(kind),
            "partitions": {p: pki.crl_url(kind, p) for p in pki.partitions(kind)},
            "generations": [
                {
                    "name": g.name,
                    "current": g.name == current,
                    "serial": str(g.certificate.serial_number),
                    "key_id": g.certificate.extensions.get_extension_for_class(
                        x509.SubjectKeyIdentifier
                    ).value.digest.hex(":"),
                    "not_before": g.certificate.not_valid_before_utc.isoformat(),
                    "not_after": g.certificate.not_valid_after_utc.isoformat(),
                    "certificate": str(pki.directory / "ca" / f"{kind}-{g.name}.pem"),
                    "ocsp_responder": str(pki.directory / "ocsp" / f"{kind}-{g.name}.pem"),
                    "url": pki.ca_url(kind, g.name),
                }
                for g in pki.generations(kind)
            ],
        }
    return {"directory": str(pki.directory), "base_url": pki.base_url, "cas": cas}


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(f"test PKI in [bold]{summary['directory']}[/], served at {summary['base_url']}")
    table = Table("CA", "generation", "key id", "valid until", "certificate")
    for kind, ca in summary["cas"].items():
        for g in ca["generations"]:
            label = g["name"] + (" (current)" if g["current"] else "")
            table.add_row(kind, label, g["key_id"][:29], g["not_after"][:10], g["certificate"])
    console.print(table)
    for kind, ca in summary["cas"].items():
        console.print(f"{kind} OCSP: {ca['ocsp_url']}")
        for partition, url in ca["partitions"].items():
            console.print(f"{kind} CRL {partition}: {url}")


@pki_app.command("init")
def init(
    directory: DirOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Where CRLs/OCSP are served (default http://127.0.0.1:8790)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the test PKI (or show the existing one): two CA generations per kind."""
    from simulators.pki import TestPki

    path = _directory(directory)
    with cli_errors(as_json):
        existed = TestPki.exists(path)
        pki = TestPki.open_or_create(path, base_url=base_url)
        if existed and base_url is not None and base_url.rstrip("/") != pki.base_url:
            pki.set_base_url(base_url)
        summary = {"created": not existed, **_pki_summary(pki)}
    emit(summary, as_json, lambda: _print_summary(summary))


def _load_public_key(path: Path, label: str) -> rsa.RSAPublicKey:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{label}: cannot read {path}: {exc.strerror}") from None
    key: object
    try:
        if b"BEGIN CERTIFICATE" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except ValueError as exc:
        raise typer.BadParameter(f"{label}: {path} is not a PEM public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise typer.BadParameter(f"{label}: {path} is not an RSA public key")
    return key


@pki_app.command("issue")
def issue(
    persona: Annotated[str, typer.Option("--persona", help="Persona id (personas.toml).")],
    auth_key: Annotated[Path, typer.Option("--auth-key", help="Auth public key, PEM.")],
    sign_key: Annotated[Path, typer.Option("--sign-key", help="Sign public key, PEM.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write auth.pem, sign.pem and CA PEMs here.")
    ] = None,
    generation: Annotated[
        str | None, typer.Option("--generation", help="Issue from an older CA generation.")
    ] = None,
    directory: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Certify a card's two public keys for a persona (cards are normally made by
    `mynaterm emulator create`, which does this itself)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from simulators.personas import get_persona

    with cli_errors(as_json):
        holder = get_persona(persona)
        auth_public = _load_public_key(auth_key, "--auth-key")
        sign_public = _load_public_key(sign_key, "--sign-key")
        pki = _open(directory)
        issued = pki.issue_card(holder, auth_public, sign_public, generation=generation)
    files: dict[str, str] = {}
    certs = {
        "auth": issued.auth_cert,
        "auth-ca": issued.auth_ca_cert,
        "sign-ca": issued.sign_ca_cert,
    }
    if issued.sign_cert is not None:  # none for a holder under 15
        certs["sign"] = issued.sign_cert
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, der in certs.items():
            target = out / f"{name}.pem"
            target.write_bytes(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM))
            files[name] = str(target)
    payload = {
        "persona": holder.id,
        "auth_serial": str(x509.load_der_x509_certificate(issued.auth_cert).serial_number),
        "sign_serial": (
            str(x509.load_der_x509_certificate(issued.sign_cert).serial_number)
            if issued.sign_cert is not None
            else None
        ),
        "files": files,
    }
    emit(
        payload,
        as_json,
        lambda: console.print(
            f"issued for {holder.id}: auth serial {serial_text(str(payload['auth_serial']))}, "
            f"sign serial {serial_text(str(payload['sign_serial']))}"
            + (f" (PEM files in {out})" if out is not None else "")
        ),
    )


def _status_payload(status: Any) -> dict[str, Any]:
    payload: dict[str, Any] = status.as_dict()
    payload["serial"] = str(payload["serial"])  # JSON numbers lose precision past 2^53
    return payload


@pki_app.command("revoke")
def revoke(
    serial: Annotated[str, typer.Argument(help="Serial: decimal, 0x-hex or AA:BB:.. hex.")],
    reason: ReasonOption,
    at: Annotated[
        str | None, typer.Option("--at", help="Revocation time, ISO 8601 (default now).")
    ] = None,
    whole_card: Annotated[
        bool, typer.Option("--card", help="Revoke both certificates of the card.")
    ] = False,
    directory: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a certificate (or, with --card, both of its card's certificates)."""
    number = _parse_serial(serial)
    moment = _parse_time(at)
    why = parse_reason(reason, as_json=as_json).value
    with cli_errors(as_json):
        pki = _open(directory)
        if whole_card:
            records = pki.revoke_card(number, why, at=moment)
        else:
            records = [pki.revoke(number, why, at=moment)]
        statuses = [_status_payload(pki.status(r.serial, now=r.revoked_at)) for r in records]
    payload = {"revoked": statuses}

    def human() -> None:
        if not statuses:
            console.print("nothing to revoke: every certificate of that card is revoked")
        for s in statuses:
            console.print(
                f"revoked {s['kind']} serial {serial_text(s['serial'])} ({s['reason']})"
                f" at {s['revoked_at']}"
            )

    emit(payload, as_json, human)


@pki_app.command("status")
def status(
    serial: Annotated[str, typer.Argument(help="Serial: decimal, 0x-hex or AA:BB:.. hex.")],
    at: Annotated[str | None, typer.Option("--at", help="As of this ISO 8601 time.")] = None,
    directory: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """The PKI's own view of a serial: good, revoked (reason, time) or unknown."""
    number = _parse_serial(serial)
    moment = _parse_time(at)
    with cli_errors(as_json):
        payload = _status_payload(_open(directory).status(number, now=moment))

    def human() -> None:
        line = f"serial {serial_text(payload['serial'])}: [bold]{payload['state']}[/]"
        if payload["state"] == "revoked":
            line += f" ({payload['reason']} at {payload['revoked_at']})"
        if payload["kind"]:
            line += f", {payload['kind']} {payload['role']}, valid until {payload['not_after']}"
        if payload["expired"]:
            line += " [yellow](expired)[/]"
        console.print(line)

    emit(payload, as_json, human)


@pki_app.command("list")
def list_issued(
    directory: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Card certificates issued so far, with their status."""
    from rich.table import Table

    with cli_errors(as_json):
        pki = _open(directory)
        rows = [
            {
                "serial": str(r.serial),
                "kind": r.kind,
                "generation": r.generation,
                "persona": r.persona_id,
                "partition": r.partition,
                "card_id": r.card_id,
                "not_after": r.not_after.isoformat(),
                "state": pki.status(r.serial).state,
                "reason": r.reason,
            }
            for r in pki.issued()
        ]

    def human() -> None:
        table = Table("serial", "kind", "gen", "persona", "partition", "until", "state")
        for row in rows:
            state = row["state"] + (f" ({row['reason']})" if row["reason"] else "")
            table.add_row(
                row["serial"], row["kind"], row["generation"], row["persona"],
                row["partition"], row["not_after"][:10], state,
            )  # fmt: skip
        console.print(table)

    emit({"certificates": rows}, as_json, human)


@pki_app.command("serve")
def serve_command(
    directory: DirOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: the PKI base URL's port).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Serve the CRLs, the OCSP responders and the CA certificates until Ctrl-C."""
    from simulators.pki import serve

    with cli_errors(as_json):
        pki = _open(directory)
        try:
            server = serve(pki, host=host, port=port)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}", code="LISTEN", as_json=as_json)
    try:
        summary = {"url": server.url, **_pki_summary(pki)}
        if server.url != pki.base_url:
            summary["warning"] = f"serving at {server.url}, but certificates name {pki.base_url}"
        emit(summary, as_json, lambda: _print_serving(summary))
        sys.stdout.flush()  # whoever reads our output line by line sees the URLs now
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _print_serving(summary: dict[str, Any]) -> None:
    console.print(f"serving the test PKI at [bold]{summary['url']}[/] (Ctrl-C stops)")
    if "warning" in summary:
        console.print(f"[yellow]warning[/]: {summary['warning']}")
    for kind, ca in summary["cas"].items():
        console.print(f"{kind} OCSP: {ca['ocsp_url']}")
        for partition, url in ca["partitions"].items():
            console.print(f"{kind} CRL {partition}: {url}")
        for g in ca["generations"]:
            console.print(f"{kind} CA {g['name']}: {g['url']}")


def register(app: typer.Typer) -> None:
    app.add_typer(pki_app, name="pki")
