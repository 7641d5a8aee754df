"""Issue 14 #7: the database file deleted or replaced while in use is detected and
refused (STORE_UNAVAILABLE), and the audit chain's head is anchored outside the
database so that a chain started over or truncated is reported, not silently accepted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terminal.audit.trail import AuditTrail, Operator, Subject
from terminal.db.engine import Store, open_store
from terminal.db.errors import StoreUnavailable

WHO = Operator(operator_id="clerk1", terminal_id="terminal-01")


def _append(trail: AuditTrail, n: int) -> None:
    for i in range(n):
        trail.record_now(
            operator=WHO, operation="link_lookup", subject=Subject.person(f"P{i:05d}"), result="ok"
        )


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "terminal.db"


def test_a_deleted_database_file_is_refused(db_file: Path) -> None:
    store = open_store(f"sqlite:///{db_file}")
    try:
        trail = AuditTrail(store)
        _append(trail, 3)
        db_file.unlink()  # the open connections would go on writing the unlinked file
        with pytest.raises(StoreUnavailable, match="deleted or replaced"):
            _append(trail, 1)
        with pytest.raises(StoreUnavailable):
            trail.list()
    finally:
        store.close()


def test_a_replaced_database_file_is_refused(db_file: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{db_file}")
    try:
        _append(AuditTrail(store), 2)
        copy = tmp_path / "copy.db"
        shutil.copyfile(db_file, copy)
        copy.replace(db_file)  # same content, another file
        with pytest.raises(StoreUnavailable) as refused:
            store.check_identity()
        assert refused.value.code == "STORE_UNAVAILABLE"
    finally:
        store.close()


def test_a_chain_started_over_is_reported_and_not_extended(db_file: Path) -> None:
    store = open_store(f"sqlite:///{db_file}")
    _append(AuditTrail(store), 5)
    store.close()
    head_file = db_file.with_name(db_file.name + ".audit-head")
    assert head_file.exists()
    db_file.unlink()
    for suffix in ("-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    fresh: Store = open_store(f"sqlite:///{db_file}")  # "restart": a new, empty database
    try:
        trail = AuditTrail(fresh)
        report = trail.verify()
        assert not report.ok and report.anchor_seq == 5
        assert "started over" in (report.problem or "")
        with pytest.raises(StoreUnavailable, match="disagrees with its head file"):
            _append(trail, 1)
        assert trail.verify().records == 0  # nothing was written to the new chain
    finally:
        fresh.close()


def test_an_older_copy_of_the_database_is_reported(db_file: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{db_file}")
    trail = AuditTrail(store)
    _append(trail, 3)
    store.close()
    older = tmp_path / "older.db"
    shutil.copyfile(db_file, older)
    store = open_store(f"sqlite:///{db_file}")
    _append(AuditTrail(store), 2)
    store.close()
    older.replace(db_file)
    for suffix in ("-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    restored = open_store(f"sqlite:///{db_file}")
    try:
        report = AuditTrail(restored).verify()
        assert not report.ok and report.records == 3 and report.anchor_seq == 5
    finally:
        restored.close()


def test_an_intact_chain_agrees_with_its_head_file(db_file: Path) -> None:
    store = open_store(f"sqlite:///{db_file}")
    try:
        trail = AuditTrail(store)
        _append(trail, 4)
        report = trail.verify()
        assert report.ok and report.records == 4 and report.anchor_seq == 4
    finally:
        store.close()
