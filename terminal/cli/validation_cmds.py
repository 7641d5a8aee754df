"""`mynaterm verify-cert` and `mynaterm crl ...`: certificate validation and the local
CRL store from the shell.

Exit codes of verify-cert (and crl lookup): 0 valid / not listed, 2 usage,
3 CERT_UNTRUSTED, 4 CERT_EXPIRED, 5 CERT_REVOKED, 6 REVOCATION_UNKNOWN, 7 CERT_MALFORMED,
8 CRL or fetch error (crl commands)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from jpki.validation import CrlStore, TrustStore, ValidationResult
    from jpki.validation.crlindex import CrlInfo
    from jpki.validation.policy import RevocationSource

from jpki.constants import CertKind
from terminal.cli.output import JsonOption, console, emit, fail, serial_text
from terminal.codes import exit_code

crl_app = typer.Typer(help="The local CRL store: fetch, show, look up.", no_args_is_help=True)

AnchorsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--anchors",
        help="PEM file(s) of trust anchors (default: the test PKI's "
        "anchors in $MYNATERM_HOME/pki when present, else the real J-LIS CAs).",
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="CRL store directory (default: $MYNATERM_HOME/crl)."),
]


def _home() -> Path:
    from terminal.home import mynaterm_home

    return mynaterm_home()


def _index_key() -> bytes | None:
    """MYNATERM_CRL_INDEX_KEY: the MAC key of the persisted CRL indexes."""
    from terminal.config import cli_config

    key = cli_config().crl_index_key
    return key.get_secret_value().encode() if key is not None else None


def _store_dir(store: Path | None) -> Path:
    return store if store is not None else _home() / "crl"


def _trust(
    anchors: list[Path] | None, kind: CertKind | None, as_json: bool
) -> tuple[TrustStore, str]:
    """Trust anchors and a word on where they came from."""
    from jpki.validation import TrustStore, ValidationError

    try:
        if anchors:
            return TrustStore.from_pem_files(anchors), "files"
        from terminal.dev.local import local_trust_if_present

        local = local_trust_if_present(_home() / "pki")
        if local is not None:
            return local[0], f"test PKI {local[1]}"
        kinds = [kind] if kind is not None else [CertKind.AUTH, CertKind.SIGN]
        from terminal.trust import production_trust

        return production_trust(kinds), "J-LIS production anchors"
    except (ValidationError, OSError) as exc:
        fail(f"trust anchors unusable: {exc}", code="ANCHORS", as_json=as_json)


def _parse_at(text: str | None, as_json: bool) -> dt.datetime | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--at {text!r} is not an ISO 8601 instant", code="USAGE", as_json=as_json)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _parse_serial(text: str) -> int:
    """Decimal, 0x-hex, or colon-separated hex as openssl prints it."""
    cleaned = text.strip()
    try:
        if ":" in cleaned:
            return int(cleaned.replace(":", ""), 16)
        if cleaned.lower().startswith("0x"):
            return int(cleaned, 16)
        return int(cleaned, 10)
    except ValueError:
        raise typer.BadParameter(f"serial {text!r} is not decimal, 0x-hex or AA:BB hex") from None


def _result_json(result: ValidationResult, anchors_from: str) -> dict[str, Any]:
    data = result.to_dict()
    data["valid"] = True
    data["anchors_from"] = anchors_from
    return data


def verify_cert(
    file: Annotated[Path, typer.Argument(help="Certificate (DER or PEM).")],
    kind: Annotated[
        CertKind, typer.Option("--kind", help="auth, sign, auth-ca, sign-ca.")
    ] = CertKind.AUTH,
    anchors: AnchorsOption = None,
    crl: Annotated[Path | None, typer.Option("--crl", help="Use this CRL file.")] = None,
    crl_url: Annotated[str | None, typer.Option("--crl-url", help="Fetch the CRL here.")] = None,
    use_ocsp: Annotated[
        bool,
        typer.Option(
            "--ocsp", help="Ask the OCSP responder in the certificate (first, before any CRL)."
        ),
    ] = False,
    soft_fail: Annotated[
        bool,
        typer.Option(
            "--soft-fail", help="Accept when no source can decide (recorded in the result)."
        ),
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help="Validate at this ISO instant.")] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a JPKI certificate: chain to an anchor generation, validity, kind, and
    revocation (CRL from --crl/--crl-url or the store and the certificate's distribution
    point; OCSP with --ocsp). Hard fail unless --soft-fail."""
    from rich.table import Table

    from jpki.validation import (
        CrlStore,
        FileCrlFetcher,
        HttpCrlFetcher,
        OcspClient,
        RevocationPolicy,
        RoutingCrlFetcher,
        ValidationError,
    )
    from jpki.validation.certinfo import load_certificate, revocation_pointers

    when = _parse_at(at, as_json)
    if crl is not None and crl_url is not None:
        fail("give --crl or --crl-url, not both", code="USAGE", as_json=as_json)
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", code="USAGE", as_json=as_json)
    trust, anchors_from = _trust(anchors, kind, as_json)
    sources: list[RevocationSource] = []
    if use_ocsp:
        sources.append("ocsp")
    if crl is not None or crl_url is not None or not use_ocsp:
        sources.append("crl")
    policy = RevocationPolicy(
        mode="soft-fail" if soft_fail else "hard-fail", sources=tuple(sources)
    )
    locations: dict[str, str] = {}
    crl_store: CrlStore
    if crl is not None or crl_url is not None:
        crl_store = CrlStore(None)  # an explicit CRL is checked alone, not stored
        try:
            partition = revocation_pointers(load_certificate(data)).partition_id or ""
        except ValidationError:
            partition = ""
        locations[partition] = str(crl) if crl is not None else str(crl_url)
    else:
        crl_store = CrlStore(_store_dir(store), trust=trust, index_key=_index_key())
    from terminal.trust import make_validator

    validator = make_validator(
        trust,
        policy,
        crl_store=crl_store,
        crl_fetcher=RoutingCrlFetcher(HttpCrlFetcher(timeout=policy.crl_timeout), FileCrlFetcher()),
        ocsp=OcspClient(timeout=policy.ocsp_timeout) if use_ocsp else None,
        crl_locations=locations,
        retry_after=0,
    )
    try:
        result = validator.validate(data, kind, at=when)
    except ValidationError as exc:
        fail(
            exc.message,
            code=exc.code,
            as_json=as_json,
            **exc.fields(),
        )

    def human() -> None:
        table = Table(show_header=False, title="certificate valid", title_style="bold green")
        rev = result.revocation
        rows = [
            ("subject", result.subject),
            ("serial", serial_text(result.serial)),
            ("kind", result.kind.value),
            ("valid", f"{result.not_before} .. {result.not_after}"),
            ("at", str(result.validated_at)),
            ("anchor", result.anchor),
            ("revocation", f"{rev.status} ({rev.source or rev.soft_fail_reason})"),
        ]
        if rev.next_update is not None:
            rows.append(("answer valid until", str(rev.next_update)))
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)

    emit(_result_json(result, anchors_from), as_json, human)


def _info_json(info: CrlInfo) -> dict[str, Any]:
    return info.to_json()


def _crl_table(infos: list[CrlInfo]) -> None:
    from rich.table import Table

    table = Table("partition", "CA key", "number", "entries", "thisUpdate", "nextUpdate")
    for info in infos:
        table.add_row(
            info.partition or "(complete)",
            info.issuer_key_id[:16],
            str(info.crl_number),
            str(info.entries),
            str(info.this_update),
            str(info.next_update),
        )
    console.print(table)


@crl_app.command("fetch")
def crl_fetch(
    source: Annotated[str, typer.Argument(help="http(s) URL or file of a CRL (DER or PEM).")],
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            help="Partition the CRL must cover (RFC 4514 DN of the "
            "directoryName distribution point); default: the CRL's own.",
        ),
    ] = None,
    anchors: AnchorsOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch a CRL, verify it against the trust anchors and hold it in the store."""
    from jpki.validation import (
        CrlStore,
        FileCrlFetcher,
        HttpCrlFetcher,
        RevocationSourceError,
        RoutingCrlFetcher,
    )

    trust, _ = _trust(anchors, None, as_json)
    try:
        data = RoutingCrlFetcher(HttpCrlFetcher(), FileCrlFetcher()).fetch(source)
        info = CrlStore(_store_dir(store), index_key=_index_key()).load(
            data, trust, partition=partition
        )
    except RevocationSourceError as exc:
        fail(exc.message, code=exc.reason_code, as_json=as_json)
    emit(_info_json(info), as_json, lambda: _crl_table([info]))


@crl_app.command("show")
def crl_show(
    partition: Annotated[str | None, typer.Argument(help="Only this partition.")] = None,
    anchors: AnchorsOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the CRLs held in the store (each verified again against the anchors)."""
    from jpki.validation import CrlStore
    from jpki.validation.crlstore import partition_id

    trust, _ = _trust(anchors, None, as_json)
    infos = CrlStore(_store_dir(store), trust=trust, index_key=_index_key()).held()
    if partition is not None:
        infos = [i for i in infos if i.partition == partition_id(partition)]
    emit([_info_json(i) for i in infos], as_json, lambda: _crl_table(infos))


@crl_app.command("lookup")
def crl_lookup(
    serial: Annotated[str, typer.Argument(help="Serial: decimal, 0x-hex or AA:BB hex.")],
    partition: Annotated[
        str | None,
        typer.Option("--partition", help="Only this partition (default: every CRL held)."),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="Freshness at this ISO instant.")] = None,
    anchors: AnchorsOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Is SERIAL listed in a held, fresh CRL? Exit 0 not listed, 5 revoked, 6 cannot
    decide (no fresh CRL held)."""
    from jpki.validation import CrlStore, RevocationSourceError
    from jpki.validation.crlstore import partition_id

    number = _parse_serial(serial)
    when = _parse_at(at, as_json)
    trust, _ = _trust(anchors, None, as_json)
    crls = CrlStore(_store_dir(store), trust=trust, index_key=_index_key())
    infos = crls.held()
    if partition is not None:
        infos = [i for i in infos if i.partition == partition_id(partition)]
    answers: list[dict[str, Any]] = []
    for info in infos:
        try:
            entry = crls.lookup(
                info.partition, number, at=when, issuer_key_id=bytes.fromhex(info.issuer_key_id)
            )
        except RevocationSourceError as exc:
            answers.append(
                {
                    "partition": info.partition,
                    "issuer_key_id": info.issuer_key_id,
                    "status": "unknown",
                    "reason_code": exc.reason_code,
                    "message": exc.message,
                }
            )
            continue
        answers.append(
            {
                "partition": info.partition,
                "issuer_key_id": info.issuer_key_id,
                "crl_number": info.crl_number,
                "status": "revoked" if entry else "not-listed",
                "revoked_at": entry.revoked_at.isoformat() if entry else None,
                "reason": entry.reason if entry else None,
            }
        )
    revoked = any(a["status"] == "revoked" for a in answers)
    unknown = not answers or any(a["status"] == "unknown" for a in answers)
    payload = {
        "serial": number,
        "serial_hex": f"{number:x}",
        "answers": answers,
        "status": "revoked" if revoked else "unknown" if unknown else "not-listed",
    }

    def human() -> None:
        if not answers:
            console.print("no CRL held" + (f" for {partition}" if partition else ""))
        for a in answers:
            console.print(
                f"{a['partition'] or '(complete)'}: {a['status']}"
                + (f" at {a['revoked_at']} ({a['reason']})" if a.get("revoked_at") else "")
                + (f" - {a['message']}" if a.get("message") else "")
            )

    emit(payload, as_json, human)
    if revoked:
        raise typer.Exit(exit_code("CERT_REVOKED"))
    if unknown:
        raise typer.Exit(exit_code("REVOCATION_UNKNOWN"))


def register(app: typer.Typer) -> None:
    app.command("verify-cert")(verify_cert)
    app.add_typer(crl_app, name="crl")
