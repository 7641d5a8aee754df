"""`mynaterm serve` refuses insecure settings before it listens."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from terminal.cli.main import app


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("MYNATERM_") and key != "MYNATERM_HOME":
            monkeypatch.delenv(key)


def test_serve_refuses_a_generated_secret_outside_dev() -> None:
    result = CliRunner().invoke(app, ["serve", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "SETTINGS" and "SESSION_SECRET" in error["message"]


def test_serve_refuses_a_public_address_without_tls() -> None:
    result = CliRunner().invoke(app, ["serve", "--dev", "--host", "0.0.0.0", "--json"])
    assert result.exit_code == 2
    assert "without TLS" in json.loads(result.stdout)["error"]["message"]


def test_serve_reads_a_settings_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "service.toml"
    config.write_text('dev = true\nhost = "192.0.2.1"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--config", str(config), "--json"])
    assert result.exit_code == 2  # the file's non-loopback host without TLS is refused
    assert "192.0.2.1" in json.loads(result.stdout)["error"]["message"]
