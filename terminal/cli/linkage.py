"""`mynaterm audit verify|list`, `mynaterm link show`, `mynaterm revoke`: the audit
trail and the linkage registry (`core serve` is in the dev wing: terminal.dev.cli.core).

The database is --db URL, else $MYNATERM_DATABASE_URL, else SQLite at
mynaterm_home()/terminal.db. Who acts is --operator (else $MYNATERM_OPERATOR, else the
login name) on --terminal (else $MYNATERM_TERMINAL_ID, else the host name); lookups and
changes are audited under that name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from terminal.audit import Operator
    from terminal.db.engine import Store
    from terminal.linkage import PersonView

from terminal.cli.errors import cli_errors
from terminal.cli.options import ReasonOption, parse_reason
from terminal.cli.output import JsonOption, console, emit, fail

audit_app = typer.Typer(help="Hash-chained audit trail.", no_args_is_help=True)
link_app = typer.Typer(help="Linkage registry: serials, persons, symbols.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $MYNATERM_DATABASE_URL, else SQLite in $MYNATERM_HOME).",
    ),
]
OperatorOption = Annotated[
    str | None, typer.Option("--operator", help="Operator id recorded in the audit trail.")
]
TerminalOption = Annotated[
    str | None, typer.Option("--terminal", help="Terminal id recorded in the audit trail.")
]


def _operator(operator: str | None, terminal: str | None) -> Operator:
    import getpass
    import socket

    from terminal.audit import Operator
    from terminal.config import cli_config

    config = cli_config()
    return Operator(
        operator or config.operator or getpass.getuser(),
        terminal or config.terminal_id or socket.gethostname(),
    )


@contextmanager
def _store(db: str | None, as_json: bool) -> Iterator[Store]:
    """The store for one command, closed afterwards; its errors and the registry's go
    through the shared error handling (terminal.cli.errors)."""
    from terminal.db import open_store

    with cli_errors(as_json):
        store = open_store(db)
        try:
            yield store
        finally:
            store.close()


# ---- audit -----------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check the whole chain; exit 9 and name the first broken seq when it is not intact."""
    from terminal.audit import AuditTrail

    with _store(db, as_json) as store:
        report = AuditTrail(store).verify()
    if not report.ok:
        fail(
            f"audit trail broken at seq {report.bad_seq}: {report.problem}",
            code="AUDIT_BROKEN",
            as_json=as_json,
            bad_seq=report.bad_seq,
            records=report.records,
        )
    emit(
        report.as_dict(),
        as_json,
        lambda: console.print(
            f"[green]audit trail intact[/]: {report.records} records, head {report.head_hash[:16]}…"
        ),
    )


@audit_app.command("list")
def audit_list(
    db: DbOption = None,
    since: Annotated[int, typer.Option("--since", help="Only records after this seq.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """Audit records, oldest first."""
    from rich.table import Table

    from terminal.audit import AuditTrail

    with _store(db, as_json) as store:
        entries = AuditTrail(store).list(since_seq=since, limit=limit)

    def human() -> None:
        table = Table()
        for header in ("seq", "when (UTC)", "operator@terminal", "operation", "subject", "result"):
            table.add_column(header, overflow="fold")
        for e in entries:
            table.add_row(
                str(e.seq),
                e.recorded_at,
                f"{e.operator_id}@{e.terminal_id}",
                e.operation,
                f"{e.subject_kind}:{e.subject_ref}",
                e.result,
            )
        console.print(table)

    emit([e.as_dict() for e in entries], as_json, human)


# ---- link / revoke ---------------------------------------------------------------------


def _show_person(view: PersonView) -> None:
    from rich.table import Table

    console.print(
        f"integrated number [bold]{view.integrated_number}[/]"
        f"{'  (My Number index held)' if view.has_mynumber_index else ''}"
    )
    for agency, symbol in view.symbols.items():
        console.print(f"  {agency:<12} {symbol}")
    table = Table(
        "kind", "serial", "issuer key id", "status", "card", "not after", "replaces", "replaced by"
    )
    for c in view.certificates:
        status = c.status + (f" ({c.revoked_reason})" if c.revoked_reason else "")
        table.add_row(
            c.kind,
            c.serial,
            c.issuer_key_id[:16] + "…",
            status,
            c.card_id[:8],
            c.not_after.date().isoformat(),
            c.replaces_serial or "",
            c.replaced_by_serial or "",
        )
    console.print(table)


@link_app.command("show")
def link_show(
    person: Annotated[str | None, typer.Option("--person", help="Integrated number.")] = None,
    serial: Annotated[str | None, typer.Option("--serial", help="Certificate serial.")] = None,
    resident_code: Annotated[
        str | None,
        typer.Option("--resident-code", help="住民票コード (asked of the symbol core)."),
    ] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="Issuer key id (hex).")] = None,
    db: DbOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person's symbols and certificates (with renewal links), by integrated number, by
    certificate serial, or by resident code (through the symbol core: the terminal keeps
    no resident code). The lookup is audited."""
    from terminal.counter import lookup
    from terminal.linkage import LinkageRegistry

    if sum(x is not None for x in (person, serial, resident_code)) != 1:
        fail(
            "give exactly one of --person, --serial or --resident-code",
            code="USAGE",
            as_json=as_json,
        )
    who = _operator(operator, terminal)
    with _store(db, as_json) as store:
        registry = LinkageRegistry(store)
        if person is not None:
            view = lookup.by_integrated_number(registry, who, person)
        elif serial is not None:
            view = lookup.by_serial(registry, who, serial, issuer_key_id=issuer)
        else:
            from terminal.dev.local import local_core_client

            assert resident_code is not None
            view = lookup.by_resident_code(local_core_client(), registry, who, resident_code)
    emit(view.as_dict(), as_json, lambda: _show_person(view))


def revoke(
    serial: Annotated[str, typer.Argument(help="Certificate serial (decimal or 0x-hex).")],
    reason: ReasonOption,
    issuer: Annotated[str | None, typer.Option("--issuer", help="Issuer key id (hex).")] = None,
    db: DbOption = None,
    operator: OperatorOption = None,
    terminal: TerminalOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a certificate revoked in the linkage registry (it stops resolving for login).
    Loss, death, card return and key compromise revoke both certificates of the card."""
    from terminal.linkage import LinkageRegistry

    why = parse_reason(reason, as_json=as_json)
    who = _operator(operator, terminal)
    with _store(db, as_json) as store:
        result = LinkageRegistry(store).revoke(serial, why, who, issuer_key_id=issuer)
    payload: dict[str, Any] = {
        "integrated_number": result.integrated_number,
        "revoked": list(result.revoked),
        "already": list(result.already),
        "reason": why.value,
        "rfc5280_reason": why.rfc5280,
    }
    emit(
        payload,
        as_json,
        lambda: console.print(
            f"revoked {', '.join(result.revoked) or 'nothing new'}"
            + (f" (already: {', '.join(result.already)})" if result.already else "")
        ),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(link_app, name="link")
    app.command("revoke")(revoke)
