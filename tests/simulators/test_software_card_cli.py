"""`mynaterm emulator`: personas, create (with the real test PKI), info."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from typer.testing import CliRunner

from jpki.constants import PinKind
from simulators.card import SoftwareCard
from simulators.personas import load_personas
from terminal.cli.main import app
from terminal.codes import exit_code
from tests.simulators.software_card_apdu import SELECT_JPKI, select_ef, sw, verify

runner = CliRunner()


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(autouse=True)
def _no_pin_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("MYNATERM_AUTH_PIN", "MYNATERM_SIGN_PIN", "MYNATERM_CARDINFO_PIN"):
        monkeypatch.delenv(variable, raising=False)


def test_personas_json_masks_the_my_number() -> None:
    result = runner.invoke(app, ["emulator", "personas", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["personas"]
    personas = load_personas()
    assert [p["id"] for p in listed] == [p.id for p in personas]
    for entry, persona in zip(listed, personas, strict=True):
        assert entry["my_number"] == "********" + persona.my_number.reveal()[8:]
        assert persona.my_number.reveal() not in result.stdout
        assert entry["birth_date"] == persona.birth_date.isoformat()
        assert entry["prefecture"] == persona.prefecture and entry["city"] == persona.city
    assert "pins" not in result.stdout and "TARO2024" not in result.stdout


def test_personas_human_output_lists_ids() -> None:
    result = runner.invoke(app, ["emulator", "personas"])
    assert result.exit_code == 0
    assert "1985-04-12" in result.stdout and "123456789018" not in result.stdout


def test_create_with_the_test_pki(pki_dir: Path, tmp_path: Path) -> None:
    from simulators.pki import TestPki

    out = tmp_path / "yamada.card"
    result = runner.invoke(
        app,
        [
            "emulator",
            "create",
            "--persona",
            "yamada-taro",
            "--out",
            str(out),
            "--pki",
            str(pki_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["persona_id"] == "yamada-taro"
    assert payload["pin_source"]["auth"] == "persona test PIN"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    card = SoftwareCard.load(out)
    # The certificates chain to the test PKI's CAs.
    pki = TestPki.open(pki_dir)
    for der, kind in ((card.auth_certificate, "auth"), (card.sign_certificate, "sign")):
        cert = x509.load_der_x509_certificate(der)
        ca = x509.load_der_x509_certificate(pki.ca_certificate(kind))
        ca_key = ca.public_key()
        assert isinstance(ca_key, rsa.RSAPublicKey)
        assert cert.signature_hash_algorithm is not None
        ca_key.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    assert card.auth_ca_certificate == pki.ca_certificate("auth")
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify("1234")) == 0x9000


def test_create_refuses_to_overwrite_and_unknown_personas(pki_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "card.json"
    out.write_text("precious")
    result = runner.invoke(
        app,
        [
            "emulator",
            "create",
            "--persona",
            "yamada-taro",
            "--out",
            str(out),
            "--pki",
            str(pki_dir),
            "--json",
        ],
    )
    assert result.exit_code != 0
    assert json.loads(result.stdout)["error"]["code"] == "EXISTS"
    assert out.read_text() == "precious"
    result = runner.invoke(
        app,
        [
            "emulator",
            "create",
            "--persona",
            "nobody",
            "--out",
            str(tmp_path / "n"),
            "--pki",
            str(pki_dir),
            "--json",
        ],
    )
    assert result.exit_code != 0
    assert json.loads(result.stdout)["error"]["code"] == "PERSONA"
    assert not (tmp_path / "n").exists()


def test_create_takes_pins_from_the_environment(
    pki_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYNATERM_AUTH_PIN", "9876")
    monkeypatch.setenv("MYNATERM_SIGN_PIN", "fromenv1")  # upper-cased like clients do
    out = tmp_path / "env.card"
    result = runner.invoke(
        app,
        [
            "emulator",
            "create",
            "--persona",
            "sato-hanako",
            "--out",
            str(out),
            "--pki",
            str(pki_dir),
            "--t0",
            "--clear-pins-on-reselect",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["pin_source"] == {
        "auth": "environment",
        "sign": "environment",
        "cardinfo": "persona test PIN",
    }
    assert "9876" not in result.stdout and "FROMENV1" not in result.stdout
    card = SoftwareCard.load(out)
    assert card.t0 and card.reselect_clears_pins
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x0018)) == 0x9000
    assert sw(card, verify("2580")) == 0x63C2  # the persona's test PIN is not it
    assert sw(card, verify("9876")) == 0x9000
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, verify("FROMENV1")) == 0x9000


def test_create_rejects_a_badly_formatted_pin_from_the_environment(
    pki_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYNATERM_AUTH_PIN", "12345")
    out = tmp_path / "bad.card"
    result = runner.invoke(
        app,
        [
            "emulator",
            "create",
            "--persona",
            "sato-hanako",
            "--out",
            str(out),
            "--pki",
            str(pki_dir),
            "--json",
        ],
    )
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "PIN_FORMAT" and "12345" not in error["message"]
    assert not out.exists()


def test_info_shows_tries_left(yamada_card_template: SoftwareCard, tmp_path: Path) -> None:
    card = yamada_card_template.copy()
    assert sw(card, SELECT_JPKI) == 0x9000
    assert sw(card, select_ef(0x001B)) == 0x9000
    assert sw(card, verify("WRONG1")) == 0x63C4
    path = tmp_path / "c.json"
    card.save(path)
    result = runner.invoke(app, ["emulator", "info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    tries = payload["pin_tries_left"]
    assert {k: tries[k] for k in ("auth", "sign", "cardinfo")} == {
        "auth": 3,
        "sign": 4,
        "cardinfo": 3,
    }
    assert tries["cardinfo-0012"] == 0 and tries["surface-code-b"] == 10
    assert payload["persona_id"] == "yamada-taro"
    assert card.pin_remaining(PinKind.SIGN) == 4
    assert "PRIVATE" not in result.stdout


def test_info_on_a_bad_file_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_text("{}")
    result = runner.invoke(app, ["emulator", "info", str(path), "--json"])
    assert result.exit_code == exit_code("CARD_FILE")
    assert json.loads(result.stdout)["error"]["code"] == "CARD_FILE"


def test_create_with_behaviours_of_other_cards(pki_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "other.card"
    base = ["emulator", "create", "--persona", "yamada-taro", "--pki", str(pki_dir), "--json"]
    result = runner.invoke(
        app,
        [
            *base,
            "--out",
            str(out),
            "--behave",
            "warm-reset-clears-pins",
            "--behave",
            "blocked-status-answers-6984",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["behaviours"] == [
        "blocked-status-answers-6984",
        "warm-reset-clears-pins",
    ]
    card = SoftwareCard.load(out)
    assert card.options.warm_reset_clears_pins and card.options.blocked_status_answers_6984
    assert not card.options.reselect_clears_pins
    refused = runner.invoke(app, [*base, "--out", str(tmp_path / "x"), "--behave", "nonsense"])
    assert refused.exit_code == 2
    assert not (tmp_path / "x").exists()
