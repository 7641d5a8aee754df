"""Alembic environment: online only, on the engine handed over in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from terminal.db.migrate import _MIGRATION_LOCK_KEY
from terminal.db.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Session-level lock, released when this connection closes.
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        connection.commit()
