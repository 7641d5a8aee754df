"""The PKI's persistent index: one SQLite file in the PKI directory.

SQLite (not JSON) so that `mynaterm pki serve` in one process sees a revocation made by
`mynaterm pki revoke` in another, and CRL numbers stay monotonic under both. Each
operation opens its own short connection; writes take the database lock up front
(BEGIN IMMEDIATE) so read-modify-write steps such as "next CRL number" are atomic.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from simulators.pki.errors import AlreadyRevokedError, PkiStateError, UnknownSerialError
from simulators.pki.names import Kind, as_kind

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,          -- decimal: serials are wider than SQLite integers
    kind TEXT NOT NULL,               -- which CA: auth | sign
    role TEXT NOT NULL,               -- card | ca | ocsp-responder
    generation TEXT NOT NULL,         -- issuing CA generation
    persona_id TEXT,
    partition TEXT,
    subject_id TEXT UNIQUE,
    card_id TEXT,                     -- pairs the auth and sign certificate of one card
    previous_serial TEXT,             -- same persona's previous certificate of this kind
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    revoked_at TEXT,
    reason TEXT,                      -- RFC 5280 CRLReason name
    der BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_partition ON certificates (kind, partition);
CREATE INDEX IF NOT EXISTS certificates_persona ON certificates (persona_id, kind);
CREATE TABLE IF NOT EXISTS crls (
    kind TEXT NOT NULL,
    partition TEXT NOT NULL,
    generation TEXT NOT NULL,         -- the CA generation that signed it
    number INTEGER NOT NULL,          -- one CRLNumber sequence per (kind, partition)
    this_update TEXT NOT NULL,
    next_update TEXT NOT NULL,
    content_key TEXT NOT NULL,        -- what the CRL says; a change forces a new CRL
    der BLOB NOT NULL,
    PRIMARY KEY (kind, partition, generation)
);
"""


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@dataclass(frozen=True)
class CertificateRecord:
    """What the PKI remembers about one certificate it issued."""

    serial: int
    kind: Kind
    role: str
    generation: str
    persona_id: str | None
    partition: str | None
    subject_id: str | None
    card_id: str | None
    previous_serial: int | None
    not_before: dt.datetime
    not_after: dt.datetime
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    reason: str | None
    der: bytes

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class StoredCrl:
    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    content_key: str
    der: bytes


_COLUMNS = (
    "serial, kind, role, generation, persona_id, partition, subject_id, card_id, "
    "previous_serial, not_before, not_after, issued_at, revoked_at, reason, der"
)


def _record(row: tuple[object, ...]) -> CertificateRecord:
    (
        serial,
        kind,
        role,
        generation,
        persona_id,
        partition,
        subject_id,
        card_id,
        previous,
        not_before,
        not_after,
        issued_at,
        revoked_at,
        reason,
        der,
    ) = row
    return CertificateRecord(
        serial=int(str(serial)),
        kind=as_kind(kind),
        role=str(role),
        generation=str(generation),
        persona_id=None if persona_id is None else str(persona_id),
        partition=None if partition is None else str(partition),
        subject_id=None if subject_id is None else str(subject_id),
        card_id=None if card_id is None else str(card_id),
        previous_serial=None if previous is None else int(str(previous)),
        not_before=_parse_time(str(not_before)),
        not_after=_parse_time(str(not_after)),
        issued_at=_parse_time(str(issued_at)),
        revoked_at=None if revoked_at is None else _parse_time(str(revoked_at)),
        reason=None if reason is None else str(reason),
        der=bytes(der),  # type: ignore[call-overload]
    )


class Store:
    FILENAME = "state.sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()

    @classmethod
    def create(cls, path: Path, meta: dict[str, str], records: list[CertificateRecord]) -> Store:
        """Write a new index at `path` in one step (temp file, then rename), so a crash
        while creating never leaves a half-made PKI that looks usable."""
        temporary = path.with_suffix(".creating")
        temporary.unlink(missing_ok=True)
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(_SCHEMA)
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [*meta.items(), ("schema_version", SCHEMA_VERSION)],
            )
            connection.commit()
        finally:
            connection.close()
        store = cls(temporary)
        store.insert(records)
        temporary.replace(path)
        return cls(path)

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise PkiStateError(f"cannot open PKI index {self.path}: {exc}") from exc
            try:
                if write:
                    connection.execute("BEGIN IMMEDIATE")
                yield connection
                if write:
                    connection.execute("COMMIT")
            except BaseException:
                if write and connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                connection.close()

    # -- meta -------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        try:
            with self._connect() as connection:
                rows = connection.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            raise PkiStateError(f"PKI index {self.path} is unreadable: {exc}") from exc
        meta = {str(k): str(v) for k, v in rows}
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise PkiStateError(
                f"PKI index {self.path} has schema {meta.get('schema_version')!r}, "
                f"this code reads {SCHEMA_VERSION!r}"
            )
        return meta

    def set_meta(self, key: str, value: str) -> None:
        with self._connect(write=True) as connection:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- certificates -------------------------------------------------------------------
    def insert(self, records: list[CertificateRecord]) -> None:
        """Record certificates (one card's pair goes in together or not at all)."""
        with self._connect(write=True) as connection:
            connection.executemany(
                f"INSERT INTO certificates ({_COLUMNS}) VALUES "  # noqa: S608  (constant column list)
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        str(r.serial),
                        r.kind,
                        r.role,
                        r.generation,
                        r.persona_id,
                        r.partition,
                        r.subject_id,
                        r.card_id,
                        None if r.previous_serial is None else str(r.previous_serial),
                        _time(r.not_before),
                        _time(r.not_after),
                        _time(r.issued_at),
                        None if r.revoked_at is None else _time(r.revoked_at),
                        r.reason,
                        r.der,
                    )
                    for r in records
                ],
            )

    def is_taken(self, *, serial: int | None = None, subject_id: str | None = None) -> bool:
        with self._connect() as connection:
            if (
                serial is not None
                and connection.execute(
                    "SELECT 1 FROM certificates WHERE serial = ?", (str(serial),)
                ).fetchone()
            ):
                return True
            return subject_id is not None and bool(
                connection.execute(
                    "SELECT 1 FROM certificates WHERE subject_id = ?", (subject_id,)
                ).fetchone()
            )

    def get(self, serial: int) -> CertificateRecord | None:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE serial = ?",  # noqa: S608
                (str(serial),),
            ).fetchone()
        return None if row is None else _record(row)

    def card_certificates(self, card_id: str) -> list[CertificateRecord]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE card_id = ? ORDER BY kind",  # noqa: S608  (constant column list)
                (card_id,),
            ).fetchall()
        return [_record(row) for row in rows]

    def latest_card_certificate(self, persona_id: str, kind: Kind) -> CertificateRecord | None:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE persona_id = ? AND kind = ? "  # noqa: S608  (constant column list)
                "AND role = 'card' ORDER BY issued_at DESC, rowid DESC LIMIT 1",
                (persona_id, kind),
            ).fetchone()
        return None if row is None else _record(row)

    def successors(self, serial: int) -> list[CertificateRecord]:
        """Certificates issued to replace `serial` (their previous_serial is it)."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE previous_serial = ? "  # noqa: S608  (constant column list)
                "ORDER BY rowid",
                (str(serial),),
            ).fetchall()
        return [_record(row) for row in rows]

    def card_records(self, kind: Kind | None = None) -> list[CertificateRecord]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE role = 'card' "  # noqa: S608  (constant column list)
                "AND (? IS NULL OR kind = ?) ORDER BY rowid",
                (kind, kind),
            ).fetchall()
        return [_record(row) for row in rows]

    def revoke(self, serial: int, at: dt.datetime, reason: str) -> CertificateRecord:
        with self._connect(write=True) as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE serial = ?",  # noqa: S608
                (str(serial),),
            ).fetchone()
            if row is None:
                raise UnknownSerialError(serial)
            record = _record(row)
            if record.revoked_at is not None:
                raise AlreadyRevokedError(serial, str(record.reason), _time(record.revoked_at))
            connection.execute(
                "UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ?",
                (_time(at), reason, str(serial)),
            )
        return self.get(serial) or record

    def partitions(self, kind: Kind) -> list[str]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT DISTINCT partition FROM certificates WHERE kind = ? "
                "AND partition IS NOT NULL ORDER BY partition",
                (kind,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def revoked_in(self, kind: Kind, partition: str) -> list[CertificateRecord]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM certificates WHERE kind = ? AND partition = ? "  # noqa: S608  (constant column list)
                "AND revoked_at IS NOT NULL ORDER BY revoked_at, serial",
                (kind, partition),
            ).fetchall()
        return [_record(row) for row in rows]

    # -- CRLs ---------------------------------------------------------------------------
    def stored_crl(self, kind: Kind, partition: str, generation: str) -> StoredCrl | None:
        with self._connect() as connection:
            return self._stored_crl(connection, kind, partition, generation)

    @staticmethod
    def _stored_crl(
        connection: sqlite3.Connection, kind: Kind, partition: str, generation: str
    ) -> StoredCrl | None:
        row = connection.execute(
            "SELECT number, this_update, next_update, content_key, der FROM crls "
            "WHERE kind = ? AND partition = ? AND generation = ?",
            (kind, partition, generation),
        ).fetchone()
        if row is None:
            return None
        return StoredCrl(
            int(row[0]), _parse_time(row[1]), _parse_time(row[2]), str(row[3]), bytes(row[4])
        )

    @contextmanager
    def crl_update(self, kind: Kind, partition: str, generation: str) -> Iterator[CrlSlot]:
        """Hold the write lock while the caller decides on and signs the next CRL, so two
        publishers never hand out the same CRL number. CRL numbers of a partition rise
        across all signing generations."""
        with self._connect(write=True) as connection:
            current = self._stored_crl(connection, kind, partition, generation)
            (highest,) = connection.execute(
                "SELECT COALESCE(MAX(number), 0) FROM crls WHERE kind = ? AND partition = ?",
                (kind, partition),
            ).fetchone()
            slot = CrlSlot(current, next_number=int(highest) + 1)
            yield slot
            if slot.new is not None:
                new = slot.new
                connection.execute(
                    "INSERT INTO crls (kind, partition, generation, number, this_update, "
                    "next_update, content_key, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(kind, partition, generation) DO UPDATE SET "
                    "number = excluded.number, this_update = excluded.this_update, "
                    "next_update = excluded.next_update, content_key = excluded.content_key, "
                    "der = excluded.der",
                    (
                        kind,
                        partition,
                        generation,
                        new.number,
                        _time(new.this_update),
                        _time(new.next_update),
                        new.content_key,
                        new.der,
                    ),
                )


@dataclass
class CrlSlot:
    current: StoredCrl | None
    next_number: int
    new: StoredCrl | None = None
