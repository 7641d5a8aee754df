"""Service fixtures: an app on software readers with one operator per role, a TestClient
that talks to it as a same-origin browser would, and software cards from the shared
test PKI (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from terminal.service import Settings, create_app
from terminal.service.context import ServiceContext
from terminal.service.security import hash_password
from terminal.service.settings import OperatorAccount, Role

BASE_URL = "http://127.0.0.1:8700"
ORIGIN = BASE_URL

# Test-only operator passwords (never well-known ones: the settings refuse those).
PASSWORDS = {
    "clerk1": "clerk-test-pass-1",
    "officer1": "officer-test-pass-1",
    "kiosk1": "kiosk-test-pass-1",
    "admin1": "admin-test-pass-1",
}
ROLES = {"clerk1": Role.CLERK, "officer1": Role.OFFICER, "kiosk1": Role.KIOSK, "admin1": Role.ADMIN}


@pytest.fixture(scope="session")
def operator_accounts() -> list[OperatorAccount]:
    return [
        OperatorAccount(username=name, password_hash=hash_password(PASSWORDS[name]), roles=[role])
        for name, role in ROLES.items()
    ]


@pytest.fixture
def service_settings(operator_accounts: list[OperatorAccount]) -> Settings:
    return Settings(
        dev=False,
        session_secret="s" * 40,
        operators=operator_accounts,
        software_readers=3,
        simulator_controls=True,
    )


@pytest.fixture
def app(service_settings: Settings) -> FastAPI:
    return create_app(service_settings)


@pytest.fixture
def ctx(app: FastAPI) -> ServiceContext:
    return app.state.ctx  # type: ignore[no-any-return]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as test_client:
        test_client.headers["Origin"] = ORIGIN
        yield test_client


@dataclass
class Session:
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def sign_in(client: TestClient) -> Callable[[str], Session]:
    def do(username: str) -> Session:
        response = client.post(
            "/api/session", json={"username": username, "password": PASSWORDS[username]}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()  # tests choose per request who they are
        return Session(response.json()["token"])

    return do


@pytest.fixture
def clerk(sign_in: Callable[[str], Session]) -> Session:
    return sign_in("clerk1")


@pytest.fixture
def officer(sign_in: Callable[[str], Session]) -> Session:
    return sign_in("officer1")


@pytest.fixture
def kiosk(sign_in: Callable[[str], Session]) -> Session:
    return sign_in("kiosk1")


@pytest.fixture
def admin(sign_in: Callable[[str], Session]) -> Session:
    return sign_in("admin1")


@pytest.fixture
def insert_card(ctx: ServiceContext, card_templates):  # type: ignore[no-untyped-def]
    """insert_card(reader_id, persona_id) puts a fresh copy of the persona's card in."""

    def do(reader_id: str, persona_id: str = "yamada-taro"):  # type: ignore[no-untyped-def]
        card = card_templates[persona_id].copy()
        ctx.readers.insert_software_card(reader_id, card, label=persona_id)
        return card

    return do
