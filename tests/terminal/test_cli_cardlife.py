"""`mynaterm set-pins`, `reset-pin`, `renew-on-card`, `reconcile-card` with --json on
software card files, the local test PKI, the dev symbol core and SQLite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulators.card import SoftwareCard
from simulators.personas import get_persona
from simulators.pki import TestPki
from terminal.cli.main import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(pki_dir, home / "pki")
    monkeypatch.setenv("MYNATERM_HOME", str(home))
    return home


def run(card: Path, *args: str, stdin: str | None = None, pin: str = ""):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app,
        ["--card", str(card), *args, "--json"],
        input=stdin,
        env={"MYNATERM_PIN": pin} if pin else {},
    )


def test_the_card_life_from_the_command_line(home: Path) -> None:
    persona = get_persona("sato-hanako")
    card = home / "new.card"
    SoftwareCard.create(persona, TestPki.open(home / "pki"), unset_pins=True).save(card)

    refused = run(card, "set-pins", "--persona", persona.id, "--pin-stdin", stdin="1\n1\n")
    assert refused.exit_code != 0
    assert json.loads(refused.stdout)["error"]["code"] == "FACE_TO_FACE_REQUIRED"
    mismatch = run(
        card,
        "set-pins",
        "--persona",
        persona.id,
        "--face-to-face",
        "--pin-stdin",
        stdin="1111\n1112\nABCDEF\nABCDEF\n1111\n1111\n",
    )
    assert json.loads(mismatch.stdout)["error"]["code"] == "PIN_MISMATCH"
    done = run(
        card,
        "set-pins",
        "--persona",
        persona.id,
        "--face-to-face",
        "--pin-stdin",
        stdin="1111\n1111\nabcdef9\nABCDEF9\n2222\n2222\n",
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["set"] == ["auth", "sign", "cardinfo"]

    issued = runner.invoke(
        app,
        ["--card", str(card), "issue", "--persona", persona.id, "--face-to-face", "--json"],
        env={"MYNATERM_AUTH_PIN": "1111", "MYNATERM_SIGN_PIN": "ABCDEF9"},
    )
    assert issued.exit_code == 0, issued.output
    symbol = json.loads(run(card, "login", pin="1111").stdout)["portal_symbol"]

    renewed = run(card, "renew-on-card", "--persona", persona.id, "--face-to-face")
    assert renewed.exit_code == 0, renewed.output
    result = json.loads(renewed.stdout)
    assert result["new_auth_serial"] != result["old_auth_serial"]
    assert result["new_sign_serial"] != result["old_sign_serial"]
    login = json.loads(run(card, "login", pin="1111").stdout)
    assert login["portal_symbol"] == symbol and login["serial"] == result["new_auth_serial"]

    for _ in range(3):
        run(card, "login", pin="0000")
    blocked = run(card, "login", pin="1111")
    assert json.loads(blocked.stdout)["error"]["code"] == "PIN_BLOCKED"
    reset = run(
        card,
        "reset-pin",
        "--kind",
        "auth",
        "--persona",
        persona.id,
        "--face-to-face",
        "--pin-stdin",
        stdin="3333\n3333\n",
    )
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.stdout)["tries_left"] == 3
    assert json.loads(run(card, "login", pin="3333").stdout)["portal_symbol"] == symbol

    reconciled = run(card, "reconcile-card")
    assert reconciled.exit_code == 0 and json.loads(reconciled.stdout)["changed"] is False
    other = run(card, "renew-on-card", "--persona", "yamada-taro", "--face-to-face")
    assert json.loads(other.stdout)["error"]["code"] == "IDENTITY_MISMATCH"
