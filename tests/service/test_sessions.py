"""Issue 14 #1 and #2, issue 13 (sessions per page): the sign-in lockout cannot be lifted
by spraying names nor held forever, sessions are server-side (a sign-out survives a
restart), expire on idle with SESSION_EXPIRED, and a kiosk page's session opens only the
kiosk routes and, for a bound kiosk account, only its own reader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from terminal.db.engine import open_store
from terminal.dev.wing import DevWing
from terminal.service import Settings, create_app
from terminal.service.security import OperatorDirectory, SessionRefused, hash_password
from terminal.service.sessions import DbSessionStore, SignInLockout
from terminal.service.settings import OperatorAccount, Role
from tests.service.conftest import BASE_URL, ORIGIN, PASSWORDS, ROLES, TEST_SECRET

START = datetime(2026, 1, 1, tzinfo=UTC)

# --- lockout ---------------------------------------------------------------------------


def test_spraying_unknown_names_does_not_lift_a_real_accounts_lock() -> None:
    """The old table was cleared whole past 10,000 names: 10,001 unknown names lifted
    every lock. Unknown names now live in their own bounded table."""
    lockout = SignInLockout(frozenset({"clerk1"}))
    for _ in range(SignInLockout.MAX_FAILURES):
        lockout.failed("clerk1", "10.0.0.9", now=100.0)
    assert lockout.locked("clerk1", "10.0.0.9", now=101.0) > 0
    for i in range(SignInLockout.MAX_UNKNOWN + 1):
        lockout.failed(f"ghost-{i}", "10.0.0.9", now=101.0)
    assert lockout.locked("clerk1", "10.0.0.9", now=102.0) > 0
    assert len(lockout._unknown) <= SignInLockout.MAX_UNKNOWN  # memory stays bounded


def test_a_lock_expires_and_guessing_while_locked_does_not_extend_it() -> None:
    lockout = SignInLockout(frozenset({"clerk1"}))
    for _ in range(SignInLockout.MAX_FAILURES):
        lockout.failed("clerk1", "attacker", now=0.0)
    first = lockout.locked("clerk1", "attacker", now=0.0)
    assert 0 < first <= SignInLockout.MAX_LOCK
    for t in range(1, int(first)):  # guessing on during the lock
        lockout.failed("clerk1", "attacker", now=float(t))
    assert lockout.locked("clerk1", "attacker", now=first + 0.1) == 0  # it expired anyway
    # the back-off doubles per lock but never passes the cap
    now = first + 1
    for _ in range(12):
        for _ in range(SignInLockout.MAX_FAILURES):
            lockout.failed("clerk1", "attacker", now=now)
        wait = lockout.locked("clerk1", "attacker", now=now)
        assert 0 < wait <= SignInLockout.MAX_LOCK + 1e-6
        now += wait + 0.1
        assert lockout.locked("clerk1", "attacker", now=now) == 0


def test_someone_guessing_a_name_does_not_lock_the_clerk_at_another_terminal() -> None:
    lockout = SignInLockout(frozenset({"clerk1"}))
    for i in range(SignInLockout.ACCOUNT_CEILING * 2):  # from many addresses, too
        lockout.failed("clerk1", f"10.0.{i}.1", now=5.0)
    assert lockout.locked("clerk1", "10.0.3.1", now=6.0) > 0
    assert lockout.locked("clerk1", "counter-terminal", now=6.0) == 0


def test_lockout_over_http_counts_per_client(client: TestClient) -> None:
    for _ in range(SignInLockout.MAX_FAILURES):
        client.post("/api/session", json={"username": "clerk1", "password": "guess"})
    locked = client.post(
        "/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]}
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["retry_after"] > 0


# --- server-side sessions --------------------------------------------------------------


def _account(name: str = "op", role: Role = Role.CLERK) -> OperatorAccount:
    return OperatorAccount(username=name, password_hash=hash_password("pw-op-1"), roles=[role])


def test_a_signed_out_session_stays_out_after_a_restart(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'terminal.db'}")
    try:
        account = _account()
        before = OperatorDirectory([account], b"k" * 32, 3600, store=DbSessionStore(store))
        kept, _ = before.issue(account, now=START)
        dropped, _ = before.issue(account, now=START)
        before.revoke(before.resolve(dropped, now=START))
        # "restart": a new directory over the same database
        after = OperatorDirectory([account], b"k" * 32, 3600, store=DbSessionStore(store))
        assert after.resolve(kept, now=START + timedelta(seconds=5)).username == "op"
        with pytest.raises(SessionRefused) as refused:
            after.resolve(dropped, now=START + timedelta(seconds=5))
        assert refused.value.code == "UNAUTHENTICATED"
    finally:
        store.close()


def test_the_database_holds_no_usable_token(tmp_path: Path) -> None:
    from sqlalchemy import text

    store = open_store(f"sqlite:///{tmp_path / 'terminal.db'}")
    try:
        account = _account()
        directory = OperatorDirectory([account], b"k" * 32, 3600, store=DbSessionStore(store))
        token, _ = directory.issue(account, now=START)
        with store.read() as session:
            rows = [tuple(r) for r in session.execute(text("SELECT * FROM operator_sessions"))]
        assert rows and all(token not in str(value) for row in rows for value in row)
    finally:
        store.close()


def test_a_counter_session_expires_on_idle() -> None:
    account = _account()
    directory = OperatorDirectory(
        [account], b"k" * 32, 8 * 3600, idle_seconds={"counter": 600, "kiosk": 0}
    )
    token, _ = directory.issue(account, now=START)
    for minutes in (5, 14, 23):  # used every 9 minutes: stays
        directory.resolve(token, now=START + timedelta(minutes=minutes))
    with pytest.raises(SessionRefused) as idle:
        directory.resolve(token, now=START + timedelta(minutes=34))
    assert idle.value.code == "SESSION_EXPIRED"
    with pytest.raises(SessionRefused):  # and it stays ended
        directory.resolve(token, now=START + timedelta(minutes=35))
    kiosk = _account("k1", Role.KIOSK)
    directory.add(kiosk)
    kiosk_token, _ = directory.issue(kiosk, "kiosk", now=START)
    assert directory.resolve(kiosk_token, now=START + timedelta(hours=7)).page == "kiosk"


def _app_settings(tmp_path: Path, **changes: object) -> Settings:
    accounts = [
        OperatorAccount(username=name, password_hash=hash_password(PASSWORDS[name]), roles=[role])
        for name, role in ROLES.items()
    ]
    values: dict[str, object] = {
        "dev": False,
        "trust": "jpki-production",
        "session_secret": TEST_SECRET,
        "operators": accounts,
        "software_readers": 2,
        "database_url": f"sqlite:///{tmp_path / 'terminal.db'}",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_client(tmp_path: Path) -> Iterator[tuple[Path, TestClient]]:
    app = create_app(_app_settings(tmp_path), extensions=[DevWing()])
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.headers["Origin"] = ORIGIN
        yield tmp_path, client


def test_sign_out_holds_across_a_service_restart(db_client: tuple[Path, TestClient]) -> None:
    tmp_path, client = db_client
    body = {"username": "clerk1", "password": PASSWORDS["clerk1"]}
    token = client.post("/api/session", json=body).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/session", headers=bearer).status_code == 204
    kept = client.post("/api/session", json=body).json()["token"]
    restarted = create_app(_app_settings(tmp_path), extensions=[DevWing()])
    with TestClient(restarted, base_url=BASE_URL, raise_server_exceptions=False) as again:
        again.headers["Origin"] = ORIGIN
        refused = again.get("/api/session", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
        assert (
            again.get("/api/session", headers={"Authorization": f"Bearer {kept}"}).json()[
                "username"
            ]
            == "clerk1"
        )


def test_an_idle_session_answers_session_expired(tmp_path: Path) -> None:
    app = create_app(_app_settings(tmp_path, session_idle_seconds=60), extensions=[DevWing()])
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.headers["Origin"] = ORIGIN
        body = {"username": "clerk1", "password": PASSWORDS["clerk1"]}
        token = client.post("/api/session", json=body).json()["token"]
        directory: OperatorDirectory = app.state.ctx.operators
        later = datetime.now(UTC) + timedelta(seconds=61)
        directory.clock = lambda: later
        response = client.get("/api/session", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "SESSION_EXPIRED"


# --- sessions per page -----------------------------------------------------------------


def test_a_kiosk_account_signs_in_on_the_kiosk_page_only(client: TestClient) -> None:
    body = {"username": "kiosk1", "password": PASSWORDS["kiosk1"]}
    refused = client.post("/api/session", json={**body, "page": "counter"})
    assert refused.status_code == 403
    signed_in = client.post("/api/session", json={**body, "page": "kiosk"})
    assert signed_in.status_code == 200
    assert signed_in.json()["cookie"] == "mynaterm_kiosk"
    assert signed_in.headers["set-cookie"].startswith("mynaterm_kiosk=")


def test_a_kiosk_page_session_opens_only_the_kiosk_routes(client: TestClient) -> None:
    body = {"username": "admin1", "password": PASSWORDS["admin1"], "page": "kiosk"}
    token = client.post("/api/session", json=body).json()["token"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/readers", headers=bearer).status_code == 200
    assert client.get("/api/session", headers=bearer).json()["page"] == "kiosk"
    for method, path in (("GET", "/api/audit"), ("GET", "/api/persons/1")):
        response = client.request(method, path, headers=bearer)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "FORBIDDEN"
    assert client.delete("/api/session", headers=bearer).status_code == 204  # staff sign-out


def test_two_pages_keep_two_sessions(client: TestClient) -> None:
    client.post("/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]})
    client.post(
        "/api/session",
        json={"username": "kiosk1", "password": PASSWORDS["kiosk1"], "page": "kiosk"},
    )
    assert {"mynaterm_counter", "mynaterm_kiosk"} <= set(client.cookies.keys())
    as_kiosk = client.get("/api/session", headers={"X-Mynaterm-Page": "kiosk"}).json()
    as_counter = client.get("/api/session", headers={"X-Mynaterm-Page": "counter"}).json()
    assert as_kiosk["username"] == "kiosk1" and as_counter["username"] == "clerk1"
    # signing out on the kiosk leaves the counter signed in
    assert client.delete("/api/session", headers={"X-Mynaterm-Page": "kiosk"}).status_code == 204
    assert client.get("/api/session", headers={"X-Mynaterm-Page": "counter"}).status_code == 200


def test_a_bound_kiosk_account_reads_only_its_own_reader(tmp_path: Path) -> None:
    """Issue 14 #10: a kiosk account could read any reader's card summary."""
    settings = _app_settings(tmp_path, database_url=None)
    bound = OperatorAccount(
        username="kiosk-a",
        password_hash=hash_password("kiosk-a-pass-1"),
        roles=[Role.KIOSK],
        reader="Software Reader 0",
    )
    settings = settings.model_copy(update={"operators": [*settings.operators, bound]})
    app = create_app(settings, extensions=[DevWing()])
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.headers["Origin"] = ORIGIN
        body = {"username": "kiosk-a", "password": "kiosk-a-pass-1"}
        bearer = {
            "Authorization": "Bearer " + client.post("/api/session", json=body).json()["token"]
        }
        client.cookies.clear()
        readers = client.get("/api/readers", headers=bearer).json()
        assert [r["name"] for r in readers] == ["Software Reader 0"]
        other = client.get("/api/readers/1/card", headers=bearer)
        assert other.status_code == 403 and other.json()["error"]["code"] == "FORBIDDEN"
        own = client.get("/api/readers/0/card", headers=bearer)
        assert own.status_code != 403  # no card inserted: NO_CARD, but not refused


def test_a_deleted_database_makes_the_service_refuse(db_client: tuple[Path, TestClient]) -> None:
    """Issue 14 #7: logins and audited lookups kept answering 200 into the unlinked file."""
    tmp_path, client = db_client
    body = {"username": "admin1", "password": PASSWORDS["admin1"]}
    bearer = {"Authorization": "Bearer " + client.post("/api/session", json=body).json()["token"]}
    client.cookies.clear()
    assert client.get("/api/audit", headers=bearer).status_code == 200
    (tmp_path / "terminal.db").unlink()
    refused = client.get("/api/audit", headers=bearer)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "STORE_UNAVAILABLE"
    again = client.post("/api/session", json=body)
    assert again.status_code == 503
