"""`mynaterm audit|link|revoke` against a real database (both backends)."""

from __future__ import annotations

import json

import pytest
import typer
from linkage_helpers import AUTH_CA_KID, OPERATOR, SIGN_CA_KID, cert, tamper
from typer.testing import CliRunner

from simulators.personas import Persona
from terminal.cli import linkage as linkage_cli
from terminal.codes import exit_code
from terminal.db.engine import Store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import CertRevoked, LinkageRegistry, PersonRef
from terminal.linkage.core_client import symbols_for_issuance


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    linkage_cli.register(app)
    return app


def _run(cli: typer.Typer, *args: str) -> tuple[int, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_link_show_revoke_and_audit(
    cli: typer.Typer,
    db_url: str,
    registry: LinkageRegistry,
    store: Store,
    core_client: InProcessCoreClient,
    personas: list[Persona],
) -> None:
    symbols = symbols_for_issuance(core_client, personas[0].resident_code)
    issued = registry.issue(PersonRef(), cert(77), cert(78, SIGN_CA_KID), symbols, OPERATOR)

    code, shown = _run(
        cli,
        "link",
        "show",
        "--serial",
        "77",
        "--issuer",
        AUTH_CA_KID,
        "--db",
        db_url,
        "--operator",
        "clerk-1",
        "--terminal",
        "desk-2",
    )
    assert code == 0 and isinstance(shown, dict)
    assert shown["integrated_number"] == issued.integrated_number
    assert shown["symbols"]["portal"] == symbols["portal"]
    code, by_person = _run(
        cli, "link", "show", "--person", issued.integrated_number, "--db", db_url
    )
    assert code == 0 and by_person == shown

    code, revoked = _run(
        cli,
        "revoke",
        "77",
        "--reason",
        "loss",
        "--issuer",
        AUTH_CA_KID,
        "--db",
        db_url,
        "--operator",
        "clerk-1",
    )
    assert code == 0 and isinstance(revoked, dict)
    assert set(revoked["revoked"]) == {"77", "78"}
    with pytest.raises(CertRevoked):
        registry.resolve_login(77, AUTH_CA_KID)

    code, listed = _run(cli, "audit", "list", "--db", db_url)
    assert code == 0 and isinstance(listed, list)
    assert [e["operation"] for e in listed] == [
        "linkage.issue",
        "linkage.person_lookup",
        "linkage.person_lookup",
        "linkage.revoke",
    ]
    assert listed[1]["operator_id"] == "clerk-1" and listed[1]["terminal_id"] == "desk-2"

    code, report = _run(cli, "audit", "verify", "--db", db_url)
    assert code == 0 and isinstance(report, dict) and report["ok"] and report["records"] == 4
    tamper(store, "UPDATE audit_records SET operator_id = 'x' WHERE seq = 2")
    code, broken = _run(cli, "audit", "verify", "--db", db_url)
    assert code == 9 and isinstance(broken, dict)
    assert broken["error"]["code"] == "AUDIT_BROKEN" and broken["error"]["bad_seq"] == 2


def test_cli_errors_are_typed(cli: typer.Typer, db_url: str) -> None:
    code, out = _run(cli, "revoke", "12345", "--reason", "loss", "--db", db_url)
    assert code == exit_code("UNKNOWN_SERIAL") and out == {
        "error": {"code": "UNKNOWN_SERIAL", "message": "serial 12345 is not linked to anyone"}
    }
    code, out = _run(cli, "link", "show", "--db", db_url)
    assert code == 2 and out["error"]["code"] == "USAGE"  # type: ignore[index]
    code, out = _run(cli, "link", "show", "--person", "12", "--db", db_url)
    assert code == exit_code("INVALID_REQUEST") and out["error"]["code"] == "INVALID_REQUEST"  # type: ignore[index]


def test_unreachable_database_exits_with_store_unavailable(cli: typer.Typer) -> None:
    code, out = _run(cli, "audit", "verify", "--db", "postgresql+psycopg://u:p@127.0.0.1:1/none")
    assert code == exit_code("STORE_UNAVAILABLE") and out["error"]["code"] == "STORE_UNAVAILABLE"  # type: ignore[index]
