"""`mynaterm issue`, `renew` and `login` on software card files, the local test PKI, the
dev symbol core and SQLite, as a counter script would run them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulators.card import SoftwareCard
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from terminal.cli.main import app
from terminal.codes import exit_code

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(pki_dir, home / "pki")
    monkeypatch.setenv("MYNATERM_HOME", str(home))
    return home


def card_file(home: Path, name: str, persona_id: str) -> Path:
    path = home / f"{name}.card"
    SoftwareCard.create(get_persona(persona_id), TestPki.open(home / "pki")).save(path)
    return path


def run(card: Path, *args: str, pin: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--card", str(card), *args, "--json"], env={"MYNATERM_PIN": pin})


def counter(card: Path, *args: str, holder: Persona, sign: str | None = None):  # type: ignore[no-untyped-def]
    """`issue` / `renew` with the holder's PINs (auth, sign, card-info) from the
    environment and the clerk's face-to-face confirmation."""
    env = {
        "MYNATERM_AUTH_PIN": holder.pins.auth,
        "MYNATERM_SIGN_PIN": sign or holder.pins.sign,
        "MYNATERM_CARDINFO_PIN": holder.pins.cardinfo,
    }
    argv = ["--card", str(card), *args, "--face-to-face", "--json"]
    return runner.invoke(app, argv, env=env)


def test_issue_login_renew_from_the_command_line(home: Path) -> None:
    persona = get_persona("suzuki-aoi")
    old = card_file(home, "old", persona.id)
    issued = counter(old, "issue", "--persona", persona.id, holder=persona)
    assert issued.exit_code == 0, issued.output
    issue = json.loads(issued.stdout)
    assert issue["certificates"]["auth"]["revocation"] == "good"
    assert set(issue["identity"]["fields"].values()) == {"match", "not_given"}

    first = run(old, "login", pin=persona.pins.auth)
    assert first.exit_code == 0, first.output
    symbol = json.loads(first.stdout)["portal_symbol"]

    new = card_file(home, "new", persona.id)
    renewed = counter(new, "renew", "--old-serial", issue["auth_serial"], holder=persona)
    assert renewed.exit_code == 0, renewed.output
    assert json.loads(renewed.stdout)["old_auth_serial"] == issue["auth_serial"]

    again = run(new, "login", pin=persona.pins.auth)
    assert json.loads(again.stdout)["portal_symbol"] == symbol
    refused = run(old, "login", pin=persona.pins.auth)
    assert refused.exit_code != 0
    assert json.loads(refused.stdout)["error"]["code"] == "CERT_REVOKED"


def test_wrong_sign_pin_at_issuance_links_nothing(home: Path) -> None:
    persona = get_persona("ito-sora")
    card = card_file(home, "card", persona.id)
    result = counter(card, "issue", "--persona", persona.id, holder=persona, sign="WRONG123")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "PIN_INCORRECT" and error["remaining"] == 4
    login = run(card, "login", pin=persona.pins.auth)
    assert json.loads(login.stdout)["error"]["code"] == "NOT_LINKED"


def test_issue_needs_a_resident_code(home: Path) -> None:
    card = card_file(home, "card", "ito-sora")
    result = run(card, "issue", pin="SORA2010")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "USAGE"


def test_issue_for_a_known_person_by_integrated_number(home: Path) -> None:
    persona = get_persona("kobayashi-mei")
    first = card_file(home, "first", persona.id)
    issued = json.loads(counter(first, "issue", "--persona", persona.id, holder=persona).stdout)
    revoked = runner.invoke(app, ["revoke", issued["auth_serial"], "--reason", "loss", "--json"])
    assert revoked.exit_code == 0, revoked.output
    replacement = card_file(home, "replacement", persona.id)
    again = counter(
        replacement,
        "issue",
        "--persona",
        persona.id,
        "--person",
        issued["integrated_number"],
        holder=persona,
    )
    assert again.exit_code == 0, again.output
    result = json.loads(again.stdout)
    assert result["integrated_number"] == issued["integrated_number"]
    assert not result["person_created"]


def test_missing_test_pki_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, software_card: SoftwareCard
) -> None:
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path / "empty"))
    card = tmp_path / "card.card"
    software_card.save(card)
    result = counter(card, "issue", "--persona", "yamada-taro", holder=get_persona("yamada-taro"))
    assert result.exit_code == exit_code("PKI_STATE")
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "PKI_STATE" and "mynaterm pki init" in error["message"]
