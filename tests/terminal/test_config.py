"""One configuration: the CLI reads the service's names (MYNATERM_DATABASE_URL), the old
MYNATERM_DB_URL is refused with a message naming the new one, and serials print in
decimal unless --hex-serials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.cli.main import app
from terminal.codes import exit_code

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MYNATERM_DATABASE_URL", "MYNATERM_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path / "home"))
    return tmp_path


def test_the_cli_uses_mynaterm_database_url(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = home / "elsewhere.db"
    monkeypatch.setenv("MYNATERM_DATABASE_URL", f"sqlite:///{elsewhere}")
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    assert elsewhere.exists() and not (home / "home" / "terminal.db").exists()


def test_the_old_variable_is_refused_with_the_new_name(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYNATERM_DB_URL", f"sqlite:///{home / 'old.db'}")
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == exit_code("SETTINGS")
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "SETTINGS" and "MYNATERM_DATABASE_URL" in error["message"]
    assert not (home / "old.db").exists()
    served = runner.invoke(app, ["serve", "--dev", "--json"])
    assert served.exit_code == exit_code("SETTINGS") and "MYNATERM_DATABASE_URL" in served.stdout


def test_serials_are_decimal_unless_asked_for_hex(
    home: Path, software_card, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "c.card"
    software_card.save(card)
    decimal = runner.invoke(app, ["--card", str(card), "cert", "read", "auth", "--format", "text"])
    serial = next(
        line.split(":", 1)[1].strip() for line in decimal.stdout.splitlines() if "serial" in line
    )
    assert serial.isdigit()
    hexed = runner.invoke(
        app, ["--hex-serials", "--card", str(card), "cert", "read", "auth", "--format", "text"]
    )
    assert f"{int(serial):#x}" in hexed.stdout
