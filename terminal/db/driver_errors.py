"""Driver errors -> the store's typed errors. Its own module so that the engine and the
migrations both use it without importing each other."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from terminal.db.errors import StoreBusy, StoreConflict, StoreError, StoreUnavailable


def translate_db_error(exc: DBAPIError) -> StoreError:
    """The typed error for a driver error."""
    if isinstance(exc, IntegrityError):
        return StoreConflict(
            f"constraint refused the write: {_first_line(exc.orig)}",
            constraint=_constraint_name(exc),
        )
    text = _first_line(exc.orig).lower()
    if "database is locked" in text or "database is busy" in text:
        return StoreBusy("the database stayed locked by another writer")
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return StoreUnavailable(f"database unavailable: {_first_line(exc.orig)}")
    return StoreUnavailable(f"database error: {_first_line(exc.orig)}")


def _first_line(orig: BaseException | None) -> str:
    return str(orig).strip().splitlines()[0] if orig is not None and str(orig) else "?"


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)  # psycopg
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else None
