"""HTTP guards, operator sign-in, sessions and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from terminal.service.security import (
    OperatorDirectory,
    SessionRefused,
    hash_password,
    split_host,
    verify_password,
)
from terminal.service.settings import OperatorAccount, Role
from tests.service.conftest import ORIGIN, PASSWORDS, Session


def test_password_hash_round_trip_and_salting() -> None:
    first, second = hash_password("pw-1"), hash_password("pw-1")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("pw-1", first)
    assert not verify_password("pw-2", first)
    assert not verify_password("pw-1", "garbage")
    assert not verify_password("pw-1", "scrypt$x$y$z$a$b")


def test_split_host() -> None:
    assert split_host("127.0.0.1:8700") == ("127.0.0.1", "8700")
    assert split_host("LOCALHOST") == ("localhost", None)
    assert split_host("[::1]:80") == ("[::1]", "80")


def test_foreign_host_is_refused(client: TestClient) -> None:
    for host in ("evil.example", "evil.example:8700", "127.0.0.1.evil.example", ""):
        response = client.get("/health", headers={"Host": host})
        assert response.status_code == 421, host
        assert response.json()["error"]["code"] == "HOST_NOT_ALLOWED"
    assert client.get("/health", headers={"Host": "localhost:8700"}).status_code == 200


def test_foreign_origin_is_refused_for_state_changes(client: TestClient) -> None:
    body = {"username": "clerk1", "password": PASSWORDS["clerk1"]}
    for origin in (
        "http://evil.example",
        "http://127.0.0.1:9999",
        "null",
        "https://127.0.0.1:8700",
    ):
        response = client.post("/api/session", json=body, headers={"Origin": origin})
        assert response.status_code == 403, origin
        assert response.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    cross_site = client.post(
        "/api/session",
        json=body,
        headers={"Origin": "", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    assert client.post("/api/session", json=body, headers={"Origin": ORIGIN}).status_code == 200


def test_reads_are_not_origin_checked_but_still_need_a_session(client: TestClient) -> None:
    response = client.get("/api/readers", headers={"Origin": "http://evil.example"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


def test_security_headers(client: TestClient) -> None:
    page = client.get("/kiosk")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client.get("/api/readers")
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    for path in ("/kiosk", "/counter"):
        html = client.get(path).text
        assert "<script>" not in html and "onclick=" not in html and "javascript:" not in html
        assert '<script src="/static/' in html
    assert client.get("/static/kiosk.js").status_code == 200
    assert client.get("/static/common.css").status_code == 200


def test_sign_in_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    response = client.post(
        "/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert cookie.startswith("mynaterm_counter=")
    assert client.get("/api/session").json() == {
        "username": "clerk1",
        "roles": ["clerk"],
        "page": "counter",
        "reader": None,
    }
    assert client.delete("/api/session").status_code == 204
    assert client.get("/api/session").status_code == 401  # the token was revoked


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = client.post("/api/session", json={"username": "clerk1", "password": "nope"})
    unknown = client.post("/api/session", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_bearer_token_and_forged_tokens(client: TestClient, clerk: Session) -> None:
    assert client.get("/api/readers", headers=clerk.headers).status_code == 200
    body, _, signature = clerk.token.partition(".")
    for forged in (body + ".AAAA", "x.y", "", body[:-2] + "." + signature):
        response = client.get("/api/readers", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401


def test_tokens_expire_and_follow_account_changes() -> None:
    account = OperatorAccount(username="op", password_hash=hash_password("p"), roles=[Role.OFFICER])
    directory = OperatorDirectory([account], b"k" * 32, ttl_seconds=60)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    token, _ = directory.issue(account, now=start)
    assert directory.resolve(token, now=start + timedelta(seconds=30)).username == "op"
    with pytest.raises(SessionRefused) as ended:
        directory.resolve(token, now=start + timedelta(seconds=61))
    assert ended.value.code == "SESSION_EXPIRED"
    directory.add(
        OperatorAccount(username="op", password_hash=account.password_hash, roles=[Role.CLERK])
    )
    with pytest.raises(SessionRefused) as demoted:  # demoted since: token no longer good
        directory.resolve(token, now=start + timedelta(seconds=30))
    assert demoted.value.code == "UNAUTHENTICATED"
    other = OperatorDirectory([account], b"z" * 32, ttl_seconds=60)
    with pytest.raises(SessionRefused):  # another service never saw this session
        other.resolve(token, now=start + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, {Role.CLERK, Role.OFFICER, Role.KIOSK, Role.ADMIN}),
        (Role.OFFICER, {Role.CLERK, Role.OFFICER}),
        (Role.CLERK, {Role.CLERK}),
        (Role.KIOSK, {Role.KIOSK}),
    ],
)
def test_role_inclusion(role: Role, allowed: set[Role]) -> None:
    account = OperatorAccount(username="op", password_hash=hash_password("p"), roles=[role])
    directory = OperatorDirectory([account], b"k" * 32, ttl_seconds=60)
    operator = directory.resolve(directory.issue(account)[0])
    assert operator is not None
    assert {r for r in Role if operator.has(r)} == allowed


def test_repeated_wrong_passwords_lock_the_user_out(client: TestClient) -> None:
    for _ in range(5):
        response = client.post("/api/session", json={"username": "clerk1", "password": "guess"})
        assert response.status_code == 401
    locked = client.post(
        "/api/session", json={"username": "clerk1", "password": PASSWORDS["clerk1"]}
    )
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    # other users are not affected
    other = client.post(
        "/api/session", json={"username": "officer1", "password": PASSWORDS["officer1"]}
    )
    assert other.status_code == 200
