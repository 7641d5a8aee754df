"""Engines and transactions for the terminal database (SQLite embedded, PostgreSQL shared).

`Store.write()` is the one way to change data: a transaction that either commits whole
or leaves nothing, with driver errors turned into typed `StoreError`s. On SQLite a
write transaction starts with BEGIN IMMEDIATE, so two writers queue on the database lock
(up to the busy timeout) instead of failing half-way on a lock upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from terminal.db.driver_errors import translate_db_error
from terminal.db.errors import StoreError, StoreUnavailable
from terminal.home import mynaterm_home

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 5
DB_URL_ENV = "MYNATERM_DATABASE_URL"  # the same name as the service's setting


def default_db_url() -> str:
    """$MYNATERM_DATABASE_URL, else SQLite at mynaterm_home()/terminal.db. The old
    MYNATERM_DB_URL is refused with a message naming the new one."""
    from terminal.config import cli_config

    url = cli_config().database_url
    if url:
        return url
    return f"sqlite:///{mynaterm_home() / 'terminal.db'}"


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool: bool = True,
    pre_ping: bool = True,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Engine:
    """An engine with the settings the registry relies on (WAL, foreign keys, busy
    timeout on SQLite; connect timeout on PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailable(f"not a database URL: {exc}") from exc
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                path = Path(parsed.database)
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Symbols and keyed hashes are for this terminal's eyes: owner-only file
                # (SQLite gives its -wal and -shm files the same mode).
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as exc:
                raise StoreUnavailable(f"cannot create the database directory: {exc}") from exc
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        kwargs["pool_pre_ping"] = pre_ping
    else:
        raise StoreUnavailable(f"unsupported database {parsed.get_backend_name()!r}")
    if not pool:
        kwargs["poolclass"] = NullPool
    try:
        engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as exc:
        raise StoreUnavailable(f"database driver missing: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own implicit
        # BEGIN is deferred and cannot be made IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL + NORMAL: a killed process loses nothing committed; only a power cut can
        # lose the last transactions, never corrupt the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("mynaterm_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The terminal database: one engine, read and write transactions."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool: bool = True,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pool=pool, busy_timeout_ms=busy_timeout_ms)
        # An SQLite file deleted or replaced while the service runs: the open connections
        # would go on reading and writing the unlinked file (logins and audited lookups
        # answering 200 into nothing). Its identity is noted now and checked before every
        # transaction; a change makes every later one STORE_UNAVAILABLE.
        self.path = sqlite_path(url)
        self._identity = _file_identity(self.path) if self.path is not None else None
        self._write_engine = self.engine.execution_options(mynaterm_write=True)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        # Hot single-statement reads (login resolution) on PostgreSQL: autocommit (no
        # BEGIN/ROLLBACK round trips) and no pre-ping; a connection the server closed
        # is retried once instead (see fetch_first).
        self._fast_base: Engine | None = None
        self._fast_engine = self.engine
        if self.engine.dialect.name == "postgresql":
            self._fast_base = make_engine(url, echo=echo, pool=pool, pre_ping=False)
            self._fast_engine = self._fast_base.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_identity(self) -> None:
        """Raise StoreUnavailable if the database file is gone or is another file."""
        if self.path is None:
            return
        if _file_identity(self.path) != self._identity:
            raise StoreUnavailable(
                f"the database file {self.path} was deleted or replaced while in use; "
                "restart the service once it is restored"
            )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back on any error.
        Driver errors come out as StoreUnavailable / StoreBusy / StoreConflict."""
        self.check_identity()
        try:
            with self._writer() as session, session.begin():
                yield session
        except DBAPIError as exc:
            raise translate_db_error(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (rolled back at the end)."""
        self.check_identity()
        try:
            with self._reader() as session:
                yield session
                session.rollback()
        except DBAPIError as exc:
            raise translate_db_error(exc) from exc

    def fetch_first(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of one read-only statement, on a bare connection (no ORM
        session). Retried once when the pooled connection turns out to be dead."""
        self.check_identity()
        for attempt in range(2):
            try:
                with self._fast_engine.connect() as conn:
                    return conn.execute(statement, params).first()
            except DBAPIError as exc:
                if attempt == 0 and exc.connection_invalidated:
                    continue
                raise translate_db_error(exc) from exc
        raise StoreUnavailable("unreachable")  # pragma: no cover - loop returns or raises

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic `upgrade head`)."""
        from terminal.db.migrate import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self._fast_base is not None:
            self._fast_base.dispose()


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for PostgreSQL or an in-memory database)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).resolve()


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def open_store(url: str | None = None, *, migrate: bool = True, echo: bool = False) -> Store:
    """The store at `url` (default: see `default_db_url`), migrated to head."""
    store = Store(url or default_db_url(), echo=echo)
    if migrate:
        try:
            store.migrate()
        except StoreError:
            store.close()
            raise
    return store
