"""The terminal database: engines, transactions, schema and migrations."""

from terminal.db.engine import Store, default_db_url, make_engine, open_store
from terminal.db.errors import (
    SchemaError,
    StoreBusy,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "SchemaError",
    "Store",
    "StoreBusy",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "default_db_url",
    "make_engine",
    "open_store",
]
