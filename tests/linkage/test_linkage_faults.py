"""Faults on both backends: a terminal killed inside an issuance, two terminals issuing
the same card at once, the database going away."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from linkage_helpers import AUTH_CA_KID, OPERATOR, SIGN_CA_KID, PgServer, cert
from sqlalchemy import func, select, text

from simulators.personas import Persona
from terminal.audit import AuditTrail
from terminal.db.engine import Store, open_store
from terminal.db.errors import StoreBusy, StoreUnavailable
from terminal.db.models import Card, Certificate, Person, PersonSymbol
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageError, LinkageRegistry, LinkConflict, NotLinked, PersonRef
from terminal.linkage.core_client import symbols_for_issuance

WORKER = Path(__file__).with_name("linkage_worker.py")


def _spawn(
    db_url: str,
    serial: int,
    persona: Persona,
    tmp: Path,
    *,
    pause: bool,
    request: str | None = None,
) -> tuple[subprocess.Popen[str], Path, Path]:
    ready, release = tmp / f"ready-{serial}-{request}", tmp / f"release-{serial}-{request}"
    argv = [sys.executable, str(WORKER), db_url, str(serial), persona.resident_code]
    if pause:
        argv += ["--ready", str(ready), "--release", str(release)]
    if request:
        argv += ["--request", request, "--started", str(tmp / f"started-{request}")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, ready, release


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("worker never reached the pause point")
        time.sleep(0.02)


def _wait_for_a_lock_wait(store: Store, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Until a session of this database waits on a lock (PostgreSQL only)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + timeout
    while True:
        with store.engine.connect() as conn:
            if conn.execute(query).scalar_one() > 0:
                return
        if proc.poll() is not None:
            raise AssertionError(f"terminal 2 ended instead of waiting: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("terminal 2 never waited on terminal 1's lock")
        time.sleep(0.05)


def _outcome(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=60)
    assert out.strip(), err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def _counts(store: Store) -> tuple[int, ...]:
    with store.read() as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Person, PersonSymbol, Card, Certificate)
        )


def test_killed_inside_issuance_leaves_nothing(
    db_url: str,
    store: Store,
    registry: LinkageRegistry,
    personas: list[Persona],
    core_client: InProcessCoreClient,
    tmp_path: Path,
) -> None:
    taro = personas[0]
    proc, ready, _release = _spawn(db_url, 500, taro, tmp_path, pause=True)
    _wait_for(ready, proc)  # every row of the link is written, COMMIT not yet sent
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _counts(store) == (0, 0, 0, 0)
    assert AuditTrail(store).verify().records == 0
    with pytest.raises(NotLinked):
        registry.resolve_login(500, AUTH_CA_KID)
    # The lock died with the process: the next terminal links the card whole.
    symbols = symbols_for_issuance(core_client, taro.resident_code)
    registry.issue(PersonRef(), cert(500), cert(501, SIGN_CA_KID), symbols, OPERATOR)
    assert registry.resolve_login(500, AUTH_CA_KID).portal_symbol == symbols["portal"]
    assert _counts(store) == (1, 2, 1, 2)
    assert registry.audit.verify().ok


def test_two_terminals_issuing_the_same_card_one_wins(
    db_url: str,
    store: Store,
    personas: list[Persona],
    tmp_path: Path,
) -> None:
    taro = personas[0]
    first, ready, release = _spawn(db_url, 600, taro, tmp_path, pause=True, request="t1")
    _wait_for(ready, first)  # terminal 1 is inside its transaction
    second, _, _ = _spawn(db_url, 600, taro, tmp_path, pause=False, request="t2")
    _wait_for(tmp_path / "started-t2", second)  # terminal 2 is calling issue() now
    if store.dialect == "postgresql":
        # Seen from the server: terminal 2 waits on a lock terminal 1 holds (a pause
        # alone could not tell waiting from not having got there yet).
        _wait_for_a_lock_wait(store, second)
    else:
        # SQLite shows no lock queue; terminal 2 is in issue() and must still be there
        # after a pause far longer than an issuance takes.
        time.sleep(0.7)
    assert second.poll() is None, "terminal 2 must wait for terminal 1, not fail or pass"
    release.touch()
    outcomes = [_outcome(first), _outcome(second)]
    assert outcomes[0]["ok"] is True
    assert outcomes[1] == {"ok": False, "code": "LINK_CONFLICT"}
    assert _counts(store) == (1, 2, 1, 2)
    assert AuditTrail(store).verify().ok


def test_many_threads_with_own_connections_one_wins(
    db_url: str,
    personas: list[Persona],
    core_client: InProcessCoreClient,
) -> None:
    symbols = symbols_for_issuance(core_client, personas[1].resident_code)
    stores = [open_store(db_url, migrate=False) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[str] = []
    lock = threading.Lock()

    def terminal(index: int) -> None:
        registry = LinkageRegistry(stores[index])
        barrier.wait()
        try:
            registry.issue(
                PersonRef(),
                cert(700),
                cert(701, SIGN_CA_KID),
                symbols,
                OPERATOR,
                request_id=f"thread-{index}",
            )
            outcome = "ok"
        except LinkConflict as exc:
            outcome = exc.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=terminal, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert sorted(results) == ["LINK_CONFLICT"] * 5 + ["ok"]
        assert _counts(stores[0]) == (1, 2, 1, 2)
        assert AuditTrail(stores[0]).verify().ok
    finally:
        for each in stores:
            each.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_database_is_a_typed_error() -> None:
    url = f"postgresql+psycopg://nobody:nothing@127.0.0.1:{_closed_port()}/mynaterm"
    with pytest.raises(StoreUnavailable) as refused:
        open_store(url)
    assert refused.value.code == "STORE_UNAVAILABLE"
    with pytest.raises(StoreUnavailable):
        open_store("sqlite:////proc/mynaterm-no-such-dir/terminal.db")
    with pytest.raises(StoreUnavailable):
        open_store("mysql://somewhere/db")
    with pytest.raises(StoreUnavailable):
        open_store("not a url")


def test_registry_on_a_database_that_is_down_raises_store_unavailable(
    personas: list[Persona],
    core_client: InProcessCoreClient,
) -> None:
    url = f"postgresql+psycopg://nobody:nothing@127.0.0.1:{_closed_port()}/mynaterm"
    registry = LinkageRegistry(Store(url))
    symbols = symbols_for_issuance(core_client, personas[0].resident_code)
    with pytest.raises(StoreUnavailable):
        registry.issue(PersonRef(), cert(1), None, symbols, OPERATOR)
    with pytest.raises(StoreUnavailable):
        registry.resolve_login(1, AUTH_CA_KID)


@pytest.mark.postgres
def test_connection_lost_before_commit_writes_nothing(
    pg_server: PgServer,
    personas: list[Persona],
    core_client: InProcessCoreClient,
) -> None:
    name = f"{pg_server.role}_down"
    with pg_server.admin_connect() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_server.template}")
    url = pg_server.url(name)
    store = open_store(url)

    def server_goes_away(_operation: str) -> None:
        # The server ends this terminal's session while its transaction is open.
        with pg_server.admin_connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    registry = LinkageRegistry(store, before_commit=server_goes_away)
    symbols = symbols_for_issuance(core_client, personas[0].resident_code)
    try:
        with pytest.raises(StoreUnavailable):
            registry.issue(PersonRef(), cert(800), cert(801, SIGN_CA_KID), symbols, OPERATOR)
        fresh = open_store(url, migrate=False)
        assert _counts(fresh) == (0, 0, 0, 0)
        with fresh.engine.connect() as conn:
            assert conn.execute(text("SELECT seq FROM audit_head")).scalar_one() == 0
        # And the store works again once the server is back (pool pre-ping).
        plain = LinkageRegistry(store)
        plain.issue(PersonRef(), cert(800), None, symbols, OPERATOR)
        assert _counts(fresh) == (1, 2, 1, 1)
        assert plain.resolve_login(800, AUTH_CA_KID).portal_symbol == symbols["portal"]
        server_goes_away("again")  # kills the pooled connection of the login path
        assert plain.resolve_login(800, AUTH_CA_KID).portal_symbol == symbols["portal"]
        fresh.close()
    finally:
        store.close()


def test_sqlite_locked_too_long_is_store_busy_and_writes_nothing(
    tmp_path: Path, personas: list[Persona], core_client: InProcessCoreClient
) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    open_store(url).close()
    holder = Store(url)
    impatient = Store(url, busy_timeout_ms=200)
    symbols = symbols_for_issuance(core_client, personas[0].resident_code)
    try:
        with holder.write() as session:  # another writer keeps the database locked
            session.execute(text("SELECT 1"))
            with pytest.raises(StoreBusy) as busy:
                LinkageRegistry(impatient).issue(PersonRef(), cert(900), None, symbols, OPERATOR)
            assert busy.value.code == "STORE_BUSY"
            # Readers are not blocked by the writer (WAL).
            with pytest.raises(NotLinked):
                LinkageRegistry(impatient).resolve_login(900, AUTH_CA_KID)
        assert _counts(impatient) == (0, 0, 0, 0)
    finally:
        holder.close()
        impatient.close()


def test_two_terminals_renewing_the_same_card_one_wins(
    db_url: str,
    registry: LinkageRegistry,
    core_client: InProcessCoreClient,
    personas: list[Persona],
) -> None:
    symbols = symbols_for_issuance(core_client, personas[3].resident_code)
    registry.issue(PersonRef(), cert(950), cert(951, SIGN_CA_KID), symbols, OPERATOR)
    stores = [open_store(db_url, migrate=False) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def terminal(index: int) -> None:
        barrier.wait()
        try:
            LinkageRegistry(stores[index]).renew(
                950, cert(960 + index), cert(970 + index, SIGN_CA_KID), OPERATOR
            )
            outcomes[index] = "ok"
        except LinkageError as exc:
            outcomes[index] = exc.code

    threads = [threading.Thread(target=terminal, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert sorted(outcomes.values()) == ["ALREADY_RENEWED", "ok"]
        winner = next(i for i, o in outcomes.items() if o == "ok")
        assert registry.current_certificate(950, issuer_key_id=AUTH_CA_KID).serial == str(
            960 + winner
        )
        assert [c.serial for c in registry.chain(950, issuer_key_id=AUTH_CA_KID)] == [
            "950",
            str(960 + winner),
        ]
    finally:
        for each in stores:
            each.close()
