"""Identity binding end to end (issue 10), on SQLite and PostgreSQL, through the CLI and
through the HTTP API: a card is linked only to the resident it belongs to.

Each refusal leaves the linkage store exactly as it was (no person, card, certificate or
symbol row added) and the refused card does not log in at the kiosk."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.core.resident_code import complete
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from terminal.cli.main import app as cli_app
from terminal.codes import exit_code
from terminal.db.engine import open_store
from terminal.db.models import Card, Certificate, Person, PersonSymbol

TARO = get_persona("yamada-taro")
HANAKO = get_persona("sato-hanako")
MINOR = get_persona("nakamura-hinata")  # under 15: no signature certificate
NOBODY = complete("1000000099")  # a valid check digit, not on the register
MISTYPED = TARO.resident_code[:10] + str((int(TARO.resident_code[10]) + 1) % 10)
TABLES = (Person, PersonSymbol, Card, Certificate)

runner = CliRunner()


def store_rows(db_url: str) -> dict[str, int]:
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            return {
                t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES
            }
    finally:
        store.close()


@pytest.fixture
def home(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(pki_dir, home / "pki")
    monkeypatch.setenv("MYNATERM_HOME", str(home))
    return home


# ---- the CLI ---------------------------------------------------------------------------


def card_file(home: Path, name: str, holder: Persona) -> Path:
    path = home / f"{name}.card"
    SoftwareCard.create(holder, TestPki.open(home / "pki")).save(path)
    return path


def counter_cli(card: Path, db_url: str, *args: str, holder: Persona) -> tuple[int, Any]:
    env = {
        "MYNATERM_AUTH_PIN": holder.pins.auth,
        "MYNATERM_SIGN_PIN": holder.pins.sign,
        "MYNATERM_CARDINFO_PIN": holder.pins.cardinfo,
    }
    argv = ["--card", str(card), *args, "--db", db_url, "--face-to-face", "--json"]
    result = runner.invoke(cli_app, argv, env=env)
    return result.exit_code, json.loads(result.stdout)


def login_cli(card: Path, db_url: str, holder: Persona) -> tuple[int, Any]:
    result = runner.invoke(
        cli_app,
        ["--card", str(card), "login", "--db", db_url, "--json"],
        env={"MYNATERM_PIN": holder.pins.auth},
    )
    return result.exit_code, json.loads(result.stdout)


def test_cli_refuses_cards_that_are_not_the_residents(home: Path, db_url: str) -> None:
    hanako_card = card_file(home, "hanako", HANAKO)
    before = store_rows(db_url)
    # Hanako's card for Taro's resident code, with her own (correct) PINs.
    code, out = counter_cli(
        hanako_card, db_url, "issue", "--resident-code", TARO.resident_code, holder=HANAKO
    )
    assert code == exit_code("IDENTITY_MISMATCH") and out["error"]["code"] == "IDENTITY_MISMATCH"
    assert set(out["error"]["fields"]) >= {"name", "birth_date", "address"}
    assert HANAKO.name not in json.dumps(out, ensure_ascii=False)  # names, not values
    for resident, expected in (
        (NOBODY, "UNKNOWN_RESIDENT"),
        (MISTYPED, "RESIDENT_CODE_CHECK_DIGIT"),
    ):
        code, out = counter_cli(
            hanako_card, db_url, "issue", "--resident-code", resident, holder=HANAKO
        )
        assert code != 0 and out["error"]["code"] == expected
    card = SoftwareCard.load(hanako_card)  # a refused code spent no PIN try
    assert all(card.pin_remaining(kind) == kind.max_tries for kind in PinKind)
    code, out = counter_cli(hanako_card, db_url, "issue", "--persona", TARO.id, holder=HANAKO)
    assert out["error"]["code"] == "IDENTITY_MISMATCH"
    assert store_rows(db_url) == before  # nothing new in the store
    code, out = login_cli(hanako_card, db_url, HANAKO)
    assert code != 0 and out["error"]["code"] == "NOT_LINKED"
    # Without the clerk's confirmation nothing is even read.
    refused = runner.invoke(
        cli_app,
        ["--card", str(hanako_card), "issue", "--persona", HANAKO.id, "--db", db_url, "--json"],
        env={"MYNATERM_AUTH_PIN": HANAKO.pins.auth, "MYNATERM_SIGN_PIN": HANAKO.pins.sign},
    )
    assert json.loads(refused.stdout)["error"]["code"] == "FACE_TO_FACE_REQUIRED"


def test_cli_renewal_with_another_persons_card_is_refused(home: Path, db_url: str) -> None:
    taro_card = card_file(home, "taro", TARO)
    code, issued = counter_cli(taro_card, db_url, "issue", "--persona", TARO.id, holder=TARO)
    assert code == 0, issued
    before = store_rows(db_url)
    hanako_card = card_file(home, "hanako", HANAKO)
    code, out = counter_cli(
        hanako_card, db_url, "renew", "--old-serial", issued["auth_serial"], holder=HANAKO
    )
    assert code == exit_code("IDENTITY_MISMATCH") and out["error"]["code"] == "IDENTITY_MISMATCH"
    assert store_rows(db_url) == before
    assert login_cli(hanako_card, db_url, HANAKO)[1]["error"]["code"] == "NOT_LINKED"
    code, taro_login = login_cli(taro_card, db_url, TARO)  # the old card still logs in
    assert code == 0 and taro_login["integrated_number"] == issued["integrated_number"]
    # Taro's own new card renews.
    new_card = card_file(home, "taro-new", TARO)
    code, renewed = counter_cli(
        new_card, db_url, "renew", "--old-serial", issued["auth_serial"], holder=TARO
    )
    assert code == 0 and renewed["integrated_number"] == issued["integrated_number"]


def test_cli_binds_a_card_without_sign_certificate_through_card_info(
    home: Path, db_url: str
) -> None:
    minor_card = card_file(home, "minor", MINOR)
    code, out = counter_cli(
        minor_card, db_url, "issue", "--persona", TARO.id, "--no-sign", holder=MINOR
    )
    assert code == exit_code("IDENTITY_MISMATCH") and set(out["error"]["fields"]) >= {
        "name",
        "my_number",
    }
    code, issued = counter_cli(
        minor_card, db_url, "issue", "--persona", MINOR.id, "--no-sign", holder=MINOR
    )
    assert code == 0, issued
    assert issued["sign_serial"] is None and issued["identity"]["source"] == "card_info"
    assert set(issued["identity"]["fields"].values()) == {"match"}
    code, login = login_cli(minor_card, db_url, MINOR)
    assert code == 0 and login["integrated_number"] == issued["integrated_number"]


# ---- the HTTP API ----------------------------------------------------------------------

PASSWORDS = {"clerk9": "clerk-identity-pass-9", "kiosk9": "kiosk-identity-pass-9"}


@dataclass
class Service:
    client: TestClient
    ctx: Any
    pki: TestPki
    clerk: dict[str, str]
    kiosk: dict[str, str]

    def insert(self, reader: str, holder: Persona) -> SoftwareCard:
        card = SoftwareCard.create(holder, self.pki)
        self.ctx.readers.insert_software_card(reader, card, label=holder.id)
        return card

    def post(self, path: str, body: dict[str, Any], who: str = "clerk") -> Any:
        return self.client.post(path, json=body, headers=getattr(self, who))

    def login(self, reader: str, holder: Persona) -> Any:
        return self.post(f"/api/readers/{reader}/login", {"pin": holder.pins.auth}, "kiosk")


def _pins(holder: Persona, reader: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"reader_id": reader, "auth_pin": holder.pins.auth}
    if holder.sign_certificate:
        body["sign_pin"] = holder.pins.sign
    else:
        body["cardinfo_pin"] = holder.pins.cardinfo
    return {**body, **extra}


@pytest.fixture(scope="module")
def accounts() -> list[Any]:
    from terminal.service.security import hash_password
    from terminal.service.settings import OperatorAccount, Role

    roles = {"clerk9": Role.CLERK, "kiosk9": Role.KIOSK}
    return [
        OperatorAccount(username=n, password_hash=hash_password(p), roles=[roles[n]])
        for n, p in PASSWORDS.items()
    ]


@pytest.fixture
def service(home: Path, db_url: str, accounts: list[Any]) -> Iterator[Service]:
    from simulators.core.config import Agency, CoreConfig, token_sha256
    from simulators.core.core import SymbolCore
    from terminal.dev.core_client import InProcessCoreClient
    from terminal.dev.local import attach_local_validation
    from terminal.dev.wing import DevWing
    from terminal.linkage.secrets import MyNumberIndex
    from terminal.service import Settings, create_app
    from terminal.service.parts import attach_registry

    settings = Settings(
        dev=False,
        trust="jpki-production",  # validation is attached below, on the local test PKI
        session_secret=secrets.token_urlsafe(32),
        operators=accounts,
        software_readers=2,
    )
    app = create_app(settings, extensions=[DevWing()])
    ctx = app.state.ctx
    pki = TestPki.open(home / "pki")
    attach_local_validation(ctx, pki, ocsp_cache=False)
    tokens = {"portal": "tok-p", "city-13101": "tok-c"}
    core = SymbolCore(
        CoreConfig(
            b"\x33" * 32,
            tuple(Agency(a, a, resident_lookup=a == "city-13101") for a in tokens),
            {token_sha256(t): a for a, t in tokens.items()},
        )
    )
    store = open_store(db_url)
    attach_registry(
        ctx,
        store,
        InProcessCoreClient(core, tokens["city-13101"]),
        mynumber_index=MyNumberIndex(b"\x21" * 32),
    )
    base = "http://127.0.0.1:8700"
    with TestClient(app, base_url=base, raise_server_exceptions=False) as client:
        client.headers["Origin"] = base

        def token(user: str) -> dict[str, str]:
            body = {"username": user, "password": PASSWORDS[user]}
            response = client.post("/api/session", json=body)
            assert response.status_code == 200, response.text
            client.cookies.clear()
            return {"Authorization": f"Bearer {response.json()['token']}"}

        yield Service(client, ctx, pki, token("clerk9"), token("kiosk9"))
    store.close()
    core.close()


def test_http_refuses_cards_that_are_not_the_residents(service: Service, db_url: str) -> None:
    card = service.insert("0", HANAKO)
    before = store_rows(db_url)
    confirmed = {"face_to_face_confirmed": True}
    mismatch = service.post(
        "/api/issuance", _pins(HANAKO, "0", resident_code=TARO.resident_code, **confirmed)
    )
    assert mismatch.status_code == 422, mismatch.text
    error = mismatch.json()["error"]
    assert error["code"] == "IDENTITY_MISMATCH"
    assert set(error["fields"]) >= {"name", "birth_date", "address"}
    assert HANAKO.name not in mismatch.text and HANAKO.address not in mismatch.text
    with_mynumber = service.post(
        "/api/issuance",
        _pins(
            HANAKO,
            "0",
            resident_code=TARO.resident_code,
            cardinfo_pin=HANAKO.pins.cardinfo,
            **confirmed,
        ),
    )
    assert "my_number" in with_mynumber.json()["error"]["fields"]
    assert HANAKO.my_number.reveal() not in with_mynumber.text
    for resident, status, expected in (
        (NOBODY, 404, "UNKNOWN_RESIDENT"),
        (MISTYPED, 422, "RESIDENT_CODE_CHECK_DIGIT"),
    ):
        refused = service.post(
            "/api/issuance", _pins(HANAKO, "0", resident_code=resident, **confirmed)
        )
        assert refused.status_code == status and refused.json()["error"]["code"] == expected
    unconfirmed = service.post(
        "/api/issuance", _pins(HANAKO, "0", resident_code=HANAKO.resident_code)
    )
    assert unconfirmed.json()["error"]["code"] == "FACE_TO_FACE_REQUIRED"
    # Two identity reads spent no try (good PINs); the refused codes none at all.
    assert all(card.pin_remaining(kind) == kind.max_tries for kind in PinKind)
    assert store_rows(db_url) == before
    assert service.login("0", HANAKO).json()["error"]["code"] == "NOT_LINKED"
    # The audit says what was refused and why, never with which values.
    audit = service.ctx.registry.audit.list(limit=100)
    results = [r.result for r in audit]
    assert "refused:IDENTITY_MISMATCH" in results
    assert any(r.startswith("mismatch:") and "name" in r for r in results)


def test_http_identity_check_shows_the_holder_and_the_verdict(service: Service) -> None:
    service.insert("0", HANAKO)
    check = service.post(
        "/api/issuance/identity", _pins(HANAKO, "0", resident_code=TARO.resident_code)
    )
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["holder"] == {
        "name": HANAKO.name,
        "birth_date": HANAKO.birth_date.isoformat(),
        "source": "sign_certificate",
    }
    assert body["match"] is False and body["fields"]["name"] == "mismatch"
    assert HANAKO.address not in check.text  # the clerk is shown name and birth date only
    own = service.post(
        "/api/issuance/identity", _pins(HANAKO, "0", resident_code=HANAKO.resident_code)
    ).json()
    assert own["match"] is True and own["fields"]["my_number"] == "not_given"
    issued = service.post(
        "/api/issuance",
        _pins(HANAKO, "0", resident_code=HANAKO.resident_code, face_to_face_confirmed=True),
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["identity"]["match"] is True
    assert service.login("0", HANAKO).status_code == 200
    audit = [r.result for r in service.ctx.registry.audit.list(limit=100)]
    assert "match:unconfirmed" in audit and "match:face_to_face" in audit


def test_http_renewal_with_another_persons_card_is_refused(service: Service, db_url: str) -> None:
    service.insert("0", TARO)
    issued = service.post(
        "/api/issuance",
        _pins(TARO, "0", resident_code=TARO.resident_code, face_to_face_confirmed=True),
    ).json()
    old_serial = issued["certificates"][0]["serial"]
    before = store_rows(db_url)
    service.insert("1", HANAKO)
    preview = service.post("/api/renewal/identity", _pins(HANAKO, "1", old_auth_serial=old_serial))
    assert preview.status_code == 200 and preview.json()["match"] is False
    assert preview.json()["fields"]["name"] == "mismatch"
    refused = service.post(
        "/api/renewal", _pins(HANAKO, "1", old_auth_serial=old_serial, face_to_face_confirmed=True)
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "IDENTITY_MISMATCH"
    assert store_rows(db_url) == before
    assert service.login("1", HANAKO).json()["error"]["code"] == "NOT_LINKED"
    assert service.login("0", TARO).status_code == 200  # the old card still works


def test_http_binds_a_card_without_sign_certificate(service: Service) -> None:
    service.insert("0", MINOR)
    no_facts = service.post(
        "/api/issuance",
        {
            "reader_id": "0",
            "auth_pin": MINOR.pins.auth,
            "resident_code": MINOR.resident_code,
            "face_to_face_confirmed": True,
        },
    )
    assert no_facts.json()["error"]["code"] == "IDENTITY_FACTS_REQUIRED"
    issued = service.post(
        "/api/issuance",
        _pins(MINOR, "0", resident_code=MINOR.resident_code, face_to_face_confirmed=True),
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert [c["kind"] for c in body["certificates"]] == ["auth"]
    assert body["identity"]["holder"]["source"] == "card_info"
    assert body["my_number"] == MINOR.my_number.masked
    assert service.login("0", MINOR).status_code == 200


def _needles(holder: Persona) -> list[str]:
    birth = holder.birth_date
    return [
        holder.my_number.reveal(),
        holder.resident_code,
        holder.name,
        holder.family_name,
        holder.given_name,
        holder.address,
        birth.isoformat(),
        birth.strftime("%Y%m%d"),
        holder.pins.sign,
    ]


def test_identity_flows_leave_no_personal_data(
    service: Service, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The scan of test_flows.py and test_linkage_privacy.py, over the new flows: the
    identity check, refusals (facts and My Numbers sent to the core's match), card-info
    binding and renewal refusal leave no My Number, resident code, basic-4 fact or sign
    PIN in the linkage store, the logs (APDU traces included) or the audit records."""
    import logging

    from sqlalchemy import inspect

    from card.trace import TRACE

    caplog.set_level(TRACE)
    logging.getLogger("card.apdu").setLevel(TRACE)
    service.insert("0", HANAKO)
    with_cardinfo = _pins(HANAKO, "0", cardinfo_pin=HANAKO.pins.cardinfo)
    service.post("/api/issuance/identity", {**with_cardinfo, "resident_code": TARO.resident_code})
    service.post(
        "/api/issuance",
        {**with_cardinfo, "resident_code": TARO.resident_code, "face_to_face_confirmed": True},
    )
    issued = service.post(
        "/api/issuance",
        {**with_cardinfo, "resident_code": HANAKO.resident_code, "face_to_face_confirmed": True},
    ).json()
    service.insert("1", MINOR)
    service.post(
        "/api/issuance",
        _pins(MINOR, "1", resident_code=MINOR.resident_code, face_to_face_confirmed=True),
    )
    service.insert("1", TARO)
    service.post(
        "/api/renewal",
        _pins(
            TARO,
            "1",
            old_auth_serial=issued["certificates"][0]["serial"],
            cardinfo_pin=TARO.pins.cardinfo,
            face_to_face_confirmed=True,
        ),
    )
    store = open_store(db_url)
    try:
        chunks: list[str] = []
        with store.engine.connect() as conn:
            for table in inspect(store.engine).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                    chunks.extend(str(v) for v in row)
    finally:
        store.close()
    rows = "\n".join(chunks)
    assert "counter.identity_check" in rows and "refused:IDENTITY_MISMATCH" in rows
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "> 00 20 00 80" in logs  # the trace was on and is scanned
    audit = "\n".join(str(r.as_dict()) for r in service.ctx.registry.audit.list(limit=1000))
    for holder in (TARO, HANAKO, MINOR):
        for needle in _needles(holder):
            assert needle not in rows, (holder.id, "linkage store")
            assert needle not in logs, (holder.id, "logs")
            assert needle.encode().hex(" ").upper() not in logs, (holder.id, "APDU trace")
            assert needle not in audit, (holder.id, "audit records")


def test_http_person_lookup_by_resident_code_serial_and_number(service: Service) -> None:
    service.insert("0", TARO)
    issued = service.post(
        "/api/issuance",
        _pins(TARO, "0", resident_code=TARO.resident_code, face_to_face_confirmed=True),
    ).json()
    person = issued["person_id"]
    serial = issued["certificates"][0]["serial"]
    for query in ({"resident_code": TARO.resident_code}, {"serial": serial}, {"person_id": person}):
        found = service.post("/api/persons/lookup", query)
        assert found.status_code == 200, found.text
        assert found.json()["person_id"] == person
        assert TARO.resident_code not in found.text
    for query, expected in (
        ({"resident_code": NOBODY}, "UNKNOWN_RESIDENT"),
        ({"resident_code": MISTYPED}, "RESIDENT_CODE_CHECK_DIGIT"),
        ({"resident_code": HANAKO.resident_code}, "UNKNOWN_PERSON"),  # no card linked here
        ({}, "VALIDATION_ERROR"),
        ({"serial": serial, "person_id": person}, "VALIDATION_ERROR"),
    ):
        assert service.post("/api/persons/lookup", query).json()["error"]["code"] == expected
    lookups = [
        r
        for r in service.ctx.registry.audit.list(limit=100)
        if r.operation == "linkage.person_lookup"
    ]
    assert len(lookups) >= 4  # three found, the unlinked resident's not_found
    assert "not_found" in {r.result for r in lookups}


def test_cli_person_lookup_by_resident_code(home: Path, db_url: str) -> None:
    card = card_file(home, "taro", TARO)
    code, issued = counter_cli(card, db_url, "issue", "--persona", TARO.id, holder=TARO)
    assert code == 0, issued
    shown = runner.invoke(
        cli_app,
        ["link", "show", "--resident-code", TARO.resident_code, "--db", db_url, "--json"],
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["integrated_number"] == issued["integrated_number"]
    unknown = runner.invoke(
        cli_app, ["link", "show", "--resident-code", NOBODY, "--db", db_url, "--json"]
    )
    assert json.loads(unknown.stdout)["error"]["code"] == "UNKNOWN_RESIDENT"
