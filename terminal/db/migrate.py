"""Run Alembic migrations from code: no alembic.ini, the script directory ships inside
the package, and the caller's engine is used (so tests and terminals share one path)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from terminal.db.driver_errors import translate_db_error

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock key: two terminals starting at once migrate one after the other.
_MIGRATION_LOCK_KEY = 0x6D796E61  # "myna"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise translate_db_error(exc) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(engine), revision)
    except DBAPIError as exc:
        raise translate_db_error(exc) from exc
