"""The store: migrations from code, backend settings, typed errors."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from terminal.db.engine import Store, open_store
from terminal.db.migrate import alembic_config, current_revision, head_revision


def test_migrations_reach_head_and_are_idempotent(db_url: str) -> None:
    store = open_store(db_url)  # already migrated by the fixture: a no-op now
    try:
        assert head_revision() is not None
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT seq, hash FROM audit_head")).one() == (0, "0" * 64)
    finally:
        store.close()


def test_downgrade_and_upgrade_round_trip(db_url: str) -> None:
    store = Store(db_url)
    try:
        command.downgrade(alembic_config(store.engine), "base")
        assert "certificates" not in inspect(store.engine).get_table_names()
        assert current_revision(store.engine) is None
        store.migrate()
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "persons",
            "person_symbols",
            "cards",
            "certificates",
            "audit_records",
            "audit_head",
        } <= tables
    finally:
        store.close()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 5000
    finally:
        store.close()
