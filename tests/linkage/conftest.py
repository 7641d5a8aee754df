"""Fixtures for the linkage suite: every store-backed test runs on SQLite and on
PostgreSQL. PostgreSQL is Debian's cluster 15/main, started if it is down; each run
creates a throwaway role and template database, each test a database copied from the
template, all dropped at the end. Under CI (CI=true) a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from linkage_helpers import TERMINAL_AGENCY, TOKENS, PgServer, core_config

from simulators.core.core import SymbolCore
from simulators.personas import Persona, load_personas
from terminal.audit.trail import AuditTrail
from terminal.db.engine import Store, open_store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.secrets import MyNumberIndex

PG_VERSION, PG_CLUSTER = "15", "main"


def _psql_as_postgres(sql: str) -> None:
    subprocess.run(
        ["su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -q -c "{sql}"'],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _cluster_port() -> int | None:
    """Port of cluster 15/main when it is online, None when it is down."""
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:2] == [PG_VERSION, PG_CLUSTER]:
            return int(fields[2]) if fields[3] == "online" else None
    raise RuntimeError("PostgreSQL cluster 15/main does not exist")


def _pg_unavailable(reason: str) -> None:
    # The same reading of CI as tests/conftest.py's IN_CI (CI=1 and CI=yes count too).
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        _pg_unavailable("Debian's postgresql package is not installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _pg_unavailable("psycopg is not installed (pip install '.[postgres]')")
    try:
        if _cluster_port() is None:
            subprocess.run(
                ["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start"],
                check=True,
                capture_output=True,
                timeout=120,
            )
        port = _cluster_port()
    except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
        _pg_unavailable(f"cannot start cluster {PG_VERSION}/{PG_CLUSTER}: {exc}")
    assert port is not None
    role = f"mynaterm_t_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    _psql_as_postgres(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'")
    server = PgServer("127.0.0.1", port, role, password, template=f"{role}_tmpl")
    try:
        with server.admin_connect() as conn:
            conn.execute(f"CREATE DATABASE {server.template}")
        store = open_store(server.url(server.template))
        store.close()
        yield server
    finally:
        with server.admin_connect() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{role}%",)
            ).fetchall()
            for (name,) in rows:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _psql_as_postgres(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'terminal.db'}"
        open_store(url).close()
        yield url
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"{server.role}_{secrets.token_hex(4)}"
    with server.admin_connect() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {server.template}")
    yield server.url(name)
    with server.admin_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = open_store(db_url)
    yield store
    store.close()


@pytest.fixture
def mynumber_index() -> MyNumberIndex:
    return MyNumberIndex(bytes(range(32)))


@pytest.fixture
def registry(store: Store, mynumber_index: MyNumberIndex) -> LinkageRegistry:
    return LinkageRegistry(store, mynumber_index=mynumber_index)


@pytest.fixture
def audit(store: Store) -> AuditTrail:
    return AuditTrail(store)


@pytest.fixture
def core() -> Iterator[SymbolCore]:
    instance = SymbolCore(core_config())
    yield instance
    instance.close()


@pytest.fixture
def core_client(core: SymbolCore) -> InProcessCoreClient:
    return InProcessCoreClient(core, TOKENS[TERMINAL_AGENCY])


@pytest.fixture(scope="session")
def personas() -> list[Persona]:
    return load_personas()
