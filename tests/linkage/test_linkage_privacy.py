"""No My Number, resident-record code or basic-4 fact reaches the terminal database."""

from __future__ import annotations

from pathlib import Path

from linkage_helpers import OPERATOR, SIGN_CA_KID, cert
from sqlalchemy import inspect, text

from simulators.personas import Persona
from terminal.db.engine import Store
from terminal.db.models import ALLOWED_COLUMN_NAMES, FORBIDDEN_COLUMN_WORDS
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageRegistry, PersonRef, RevocationReason
from terminal.linkage.core_client import symbols_for_issuance


def test_schema_has_no_personal_data_columns(store: Store) -> None:
    inspector = inspect(store.engine)
    tables = inspector.get_table_names()
    assert {"persons", "certificates", "audit_records"} <= set(tables)
    for table in tables:
        for column in inspector.get_columns(table):
            name = column["name"].lower()
            if name in ALLOWED_COLUMN_NAMES:
                continue
            assert not any(word in name for word in FORBIDDEN_COLUMN_WORDS), (table, name)


def _needles(persona: Persona) -> list[str]:
    birth = persona.birth_date
    return [
        persona.my_number.reveal(),
        persona.resident_code,
        persona.name,
        persona.family_name,
        persona.given_name,
        persona.address,
        birth.isoformat(),
        birth.strftime("%Y%m%d"),
    ]


def _all_text(store: Store) -> str:
    """Every value of every table, as text."""
    chunks: list[str] = []
    with store.engine.connect() as conn:
        for table in inspect(store.engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                chunks.extend(str(v) for v in row)
    return "\n".join(chunks)


def _file_bytes(store: Store) -> bytes:
    if store.dialect != "sqlite":
        return b""
    path = Path(store.engine.url.database or "")
    data = b""
    for candidate in (path, Path(f"{path}-wal")):
        if candidate.exists():
            data += candidate.read_bytes()
    return data


def test_database_holds_no_mynumber_nor_basic_facts(
    registry: LinkageRegistry,
    store: Store,
    core_client: InProcessCoreClient,
    personas: list[Persona],
) -> None:
    for i, persona in enumerate(personas):
        symbols = symbols_for_issuance(core_client, persona.resident_code)
        registry.issue(
            PersonRef(my_number=persona.my_number),
            cert(1000 + i),
            cert(2000 + i, SIGN_CA_KID),
            symbols,
            OPERATOR,
        )
        registry.person_by_mynumber(persona.my_number, OPERATOR)
        registry.audit.record_mynumber_view(
            OPERATOR, registry.person_by_mynumber(persona.my_number, OPERATOR).integrated_number
        )
    registry.revoke(2000, RevocationReason.BASIC_FACTS_CHANGED, OPERATOR)
    rows = _all_text(store)
    raw = _file_bytes(store)
    assert "linkage.issue" in rows  # the scan does see the data
    for persona in personas:
        for needle in _needles(persona):
            assert needle not in rows, (persona.id, "table text")
            assert needle.encode("utf-8") not in raw, (persona.id, "database file")
