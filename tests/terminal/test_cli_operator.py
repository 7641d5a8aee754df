"""`mynaterm operator add`: the account it makes signs in to a real (non-dev) service,
whether given as the MYNATERM_OPERATORS line or written into a settings file."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from terminal.cli.main import app
from terminal.codes import exit_code
from terminal.service import create_app, load_settings

runner = CliRunner()
PASSWORD = "counter-clerk-7-pass"
SECRET = secrets.token_urlsafe(32)


def add(*args: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["operator", "add", *args, "--password-stdin", "--json"], input=password + "\n"
    )


def signs_in(settings_path: Path | None, username: str, password: str) -> bool:
    settings = load_settings(settings_path, session_secret=SECRET)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8700") as client:
        client.headers["Origin"] = "http://127.0.0.1:8700"
        answer = client.post("/api/session", json={"username": username, "password": password})
        return answer.status_code == 200


def test_the_printed_line_configures_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYNATERM_OPERATORS", raising=False)
    result = add("hanako", "--role", "clerk")
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)["settings_line"]
    assert PASSWORD not in line
    name, _, value = line.partition("=")
    assert name == "MYNATERM_OPERATORS"
    monkeypatch.setenv(name, value.strip("'"))
    assert signs_in(None, "hanako", PASSWORD)
    assert not signs_in(None, "hanako", "another-password-123")


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_the_settings_file_is_written_and_updated(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYNATERM_OPERATORS", raising=False)
    path = tmp_path / f"settings{suffix}"
    assert add("taro", "--role", "kiosk", "--settings-file", str(path)).exit_code == 0
    assert (
        add("ken", "--role", "officer", "--role", "clerk", "--settings-file", str(path)).exit_code
        == 0
    )
    new_password = "renewed-pass-for-taro"
    assert (
        add(
            "taro", "--role", "kiosk", "--settings-file", str(path), password=new_password
        ).exit_code
        == 0
    )
    assert path.stat().st_mode & 0o077 == 0
    settings = load_settings(path, session_secret=SECRET)
    assert sorted(a.username for a in settings.operators) == ["ken", "taro"]
    assert signs_in(path, "taro", new_password) and not signs_in(path, "taro", PASSWORD)
    assert signs_in(path, "ken", PASSWORD)


@pytest.mark.parametrize(
    ("args", "password"),
    [
        (["x y", "--role", "clerk"], PASSWORD),  # not a valid username
        (["ok", "--role", "janitor"], PASSWORD),
        (["ok", "--role", "clerk"], "short"),
        (["ok", "--role", "clerk"], "password"),
    ],
)
def test_bad_accounts_are_refused(args: list[str], password: str) -> None:
    result = add(*args, password=password)
    assert result.exit_code == exit_code("USAGE")
    assert json.loads(result.stdout)["error"]["code"] == "USAGE"
