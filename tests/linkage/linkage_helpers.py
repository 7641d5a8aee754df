"""Shared values of the linkage tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from simulators.core.config import Agency, CoreConfig, token_sha256
from terminal.audit.trail import Operator
from terminal.db.engine import Store
from terminal.linkage.types import CertInfo

AUTH_CA_KID = "a1" * 20
SIGN_CA_KID = "5e" * 20
TERMINAL_AGENCY = "city-13101"
TOKENS = {
    "portal": "tok-portal",
    TERMINAL_AGENCY: "tok-city",
    "tax": "tok-tax",
    "pension": "tok-pension",
}
OPERATOR = Operator("officer-7", "counter-01")

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    role: str
    password: str
    template: str

    def url(self, database: str) -> str:
        return (
            f"postgresql+psycopg://{self.role}:{self.password}@{self.host}:{self.port}/{database}"
        )

    def admin_connect(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.role,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        )


def cert(serial: int, kid: str = AUTH_CA_KID, *, days: int = 5 * 365) -> CertInfo:
    now = dt.datetime.now(dt.UTC)
    return CertInfo(serial, kid, now - dt.timedelta(days=1), now + dt.timedelta(days=days))


def core_config(master: bytes = b"\x42" * 32) -> CoreConfig:
    agencies = tuple(Agency(code, code, code == TERMINAL_AGENCY) for code in TOKENS)
    return CoreConfig(master, agencies, {token_sha256(t): a for a, t in TOKENS.items()})


def tamper(store: Store, statement: str, **params: object) -> None:
    """Run raw SQL on audit_records as an intruder with DDL rights would: the
    append-only triggers are removed first, so only the hash chain is left to tell."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_records_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_records_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_records DISABLE TRIGGER USER")
        conn.execute(text(statement), params)
