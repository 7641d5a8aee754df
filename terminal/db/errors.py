"""Typed store errors. Callers (the service, the CLI) map `code` to a response."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors; `code` is stable and machine-readable."""

    code = "STORE_ERROR"


class StoreUnavailable(StoreError):
    """The database cannot be reached, or went away during the transaction. Nothing of
    the operation was written: the transaction was rolled back (or never began)."""

    code = "STORE_UNAVAILABLE"


class StoreBusy(StoreUnavailable):
    """Another writer held the database longer than the busy timeout (SQLite)."""

    code = "STORE_BUSY"


class StoreConflict(StoreError):
    """A unique or foreign-key constraint refused the write (a concurrent writer won)."""

    code = "STORE_CONFLICT"

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class SchemaError(StoreError):
    """The database schema is not the one this code expects (migration failed)."""

    code = "SCHEMA_ERROR"
