"""Service fixtures: an app on software readers with one operator per role, a TestClient
that talks to it as a same-origin browser would, and software cards from the shared
test PKI (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from terminal.dev.wing import DevWing
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
# A session secret as an operator would generate one (the settings refuse trivial ones).
TEST_SECRET = "hM3vQ9tL0xR7cW2nB5yK8pJ4fD6gS1aZ"
ROLES = {"clerk1": Role.CLERK, "officer1": Role.OFFICER, "kiosk1": Role.KIOSK, "admin1": Role.ADMIN}


@pytest.fixture(scope="session")
def operator_accounts() -> list[OperatorAccount]:
    return [
        OperatorAccount(username=name, password_hash=hash_password(PASSWORDS[name]), roles=[role])
        for name, role in ROLES.items()
    ]


@pytest.fixture
def service_settings(operator_accounts: list[OperatorAccount]) -> Settings:
    settings = Settings(
        dev=False,
        trust="jpki-production",
        session_secret=TEST_SECRET,
        operators=operator_accounts,
        software_readers=3,
    )
    # The simulator controls are dev-only (Settings refuse them outside dev); these
    # tests drive the dev wing's routes on a production-like service, so they switch
    # them on past validation, which no environment or settings file can do.
    return settings.model_copy(update={"simulator_controls": True})


@pytest.fixture
def app(service_settings: Settings) -> FastAPI:
    return create_app(service_settings, extensions=[DevWing()])


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


# ---- the lower layers, real: test PKI validation, SQLite registry, in-process core ----

TERMINAL_AGENCY = "city-13101"
CORE_TOKENS = {"portal": "core-tok-portal", TERMINAL_AGENCY: "core-tok-city"}


@pytest.fixture
def wired(ctx: ServiceContext, test_pki, tmp_path):  # type: ignore[no-untyped-def]
    """Attach validation (OCSP asked on every check, so revocations show at once),
    a fresh SQLite registry, the symbol core and a My Number index to the app."""
    from simulators.core.config import Agency, CoreConfig, token_sha256
    from simulators.core.core import SymbolCore
    from terminal.db.engine import open_store
    from terminal.dev.core_client import InProcessCoreClient
    from terminal.dev.local import attach_local_validation
    from terminal.linkage.secrets import MyNumberIndex
    from terminal.service.parts import attach_registry

    attach_local_validation(ctx, test_pki, ocsp_cache=False)
    from terminal.dev.issuer import TestPkiAuthority

    ctx.issuer = TestPkiAuthority(test_pki)  # the card-life routes (issue 15)
    config = CoreConfig(
        b"\x42" * 32,
        tuple(Agency(code, code, resident_lookup=code == TERMINAL_AGENCY) for code in CORE_TOKENS),
        {token_sha256(token): agency for agency, token in CORE_TOKENS.items()},
    )
    core = SymbolCore(config)
    store = open_store(f"sqlite:///{tmp_path / 'terminal.db'}")
    attach_registry(
        ctx,
        store,
        InProcessCoreClient(core, CORE_TOKENS[TERMINAL_AGENCY]),
        mynumber_index=MyNumberIndex(b"\x17" * 32),
    )
    yield ctx
    store.close()
    core.close()
