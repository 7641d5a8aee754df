"""`mynaterm serve --dev` wiring: with nothing else configured the service builds the
embedded defaults under mynaterm home (local test PKI, SQLite store, in-process dev
core, My Number index) and a full issuance + login works."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from simulators.card import SoftwareCard
from simulators.personas import get_persona
from terminal.dev.wing import DevWing
from terminal.service import Settings, create_app
from tests.service.conftest import BASE_URL, ORIGIN, PASSWORDS, TEST_SECRET


@pytest.fixture
def home(tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import os

    for key in list(os.environ):
        if key.startswith("MYNATERM_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path))
    return tmp_path


def test_dev_defaults_are_wired(home, operator_accounts) -> None:  # type: ignore[no-untyped-def]
    from terminal.dev.local import open_local_pki

    settings = Settings(dev=True, software_readers=1, operators=operator_accounts)
    app = create_app(settings, extensions=[DevWing()])
    persona = get_persona("sato-hanako")
    with TestClient(app, base_url=BASE_URL) as client:
        client.headers["Origin"] = ORIGIN
        ctx = app.state.ctx
        assert ctx.validator is not None and ctx.registry is not None and ctx.core is not None
        assert ctx.mynumber_index is not None
        assert (home / "pki").is_dir() and (home / "terminal.db").exists()
        card = SoftwareCard.create(persona, open_local_pki(home / "pki"))
        ctx.readers.insert_software_card("0", card)

        def token(user: str) -> dict[str, str]:
            body = {"username": user, "password": PASSWORDS[user]}
            return {
                "Authorization": "Bearer " + client.post("/api/session", json=body).json()["token"]
            }

        issued = client.post(
            "/api/issuance",
            json={
                "reader_id": "0",
                "resident_code": persona.resident_code,
                "auth_pin": persona.pins.auth,
                "sign_pin": persona.pins.sign,
                "face_to_face_confirmed": True,
            },
            headers=token("clerk1"),
        )
        assert issued.status_code == 200, issued.text
        login = client.post(
            "/api/readers/0/login", json={"pin": persona.pins.auth}, headers=token("kiosk1")
        )
        assert login.status_code == 200, login.text


def test_production_defaults_trust_the_real_jlis_cas_and_no_test_pki(
    home, operator_accounts
) -> None:  # type: ignore[no-untyped-def]
    """Outside dev mode the default trust is the real J-LIS CAs; the product service
    (no dev wing) has neither software readers nor the test PKI, and creates no store
    the operator did not configure."""
    from jpki.validation import TrustStore

    settings = Settings(session_secret=TEST_SECRET, operators=operator_accounts, software_readers=1)
    assert settings.trust == "jpki-production"
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL) as client:
        ctx = app.state.ctx
        assert ctx.validator is not None and ctx.registry is None
        real = {
            a.der for kind in ("auth", "sign") for a in TrustStore.jpki_production(kind).anchors
        }
        assert {a.der for a in ctx.validator.trust.anchors} == real
        assert ctx.readers.all() == []  # software readers only come with the dev wing
        assert client.get("/health").status_code == 200
    assert not (home / "terminal.db").exists()  # nothing created behind the operator's back
    assert not (home / "pki").exists()


def test_dev_mode_defaults_to_the_test_pki() -> None:
    assert Settings(dev=True).trust == "local-test-pki"
    assert Settings(dev=True, trust="jpki-production").trust == "jpki-production"


def test_core_url_needs_a_token() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="core_token"):
        Settings(dev=True, core_url="http://127.0.0.1:8800")


def test_production_crl_store_takes_its_index_key_from_the_settings(
    home, operator_accounts, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 #6: the key of the persisted CRL indexes comes from the configuration,
    and the store can re-verify a persisted CRL against the production anchors."""
    settings = Settings(
        session_secret=TEST_SECRET,
        trust="jpki-production",
        operators=operator_accounts,
        crl_dir=tmp_path / "crl",
        crl_index_key="a-configured-crl-index-key-0123",
    )
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL):
        store = app.state.ctx.validator.revocation.crl_store
        assert store._index_key == b"a-configured-crl-index-key-0123"
        assert store._anchors  # the J-LIS anchors, for rebuilding an untrusted index
