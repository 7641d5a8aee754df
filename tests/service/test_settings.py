"""Settings refuse insecure values outside dev mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from terminal.service.security import hash_password
from terminal.service.settings import OperatorAccount, Role, Settings, load_settings

SECRET = "x" * 40


def account(password: str, role: Role = Role.CLERK) -> OperatorAccount:
    return OperatorAccount(username="op", password_hash=hash_password(password), roles=[role])


def test_dev_mode_generates_a_secret_and_needs_no_operators() -> None:
    settings = Settings(dev=True)
    assert settings.session_secret is not None
    assert len(settings.session_secret.get_secret_value()) >= 32
    assert settings.host == "127.0.0.1"
    assert settings.port == 8700


def test_production_refuses_a_generated_secret() -> None:
    with pytest.raises(ValidationError, match="SESSION_SECRET"):
        Settings(operators=[account("a-long-unique-password")])


def test_production_refuses_no_operators() -> None:
    with pytest.raises(ValidationError, match="no operator accounts"):
        Settings(session_secret=SECRET)


@pytest.mark.parametrize("weak", ["admin", "password", "changeme"])
def test_production_refuses_well_known_passwords(weak: str) -> None:
    with pytest.raises(ValidationError, match="well-known password"):
        Settings(session_secret=SECRET, operators=[account(weak)])


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(session_secret="short", operators=[account("a-long-unique-password")])


def test_non_loopback_needs_tls_or_an_explicit_flag() -> None:
    with pytest.raises(ValidationError, match="without TLS"):
        Settings(dev=True, host="0.0.0.0")
    assert Settings(dev=True, host="0.0.0.0", allow_insecure_bind=True).host == "0.0.0.0"
    with pytest.raises(ValidationError, match="both tls_certfile"):
        Settings(dev=True, tls_certfile="/tmp/cert.pem")


def test_environment_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MYNATERM_DEV", "true")
    monkeypatch.setenv("MYNATERM_ALLOWED_HOSTS", "kiosk.local, counter.local")
    monkeypatch.setenv("MYNATERM_PORT", "9000")
    config = tmp_path / "service.toml"
    config.write_text("port = 9100\nsoftware_readers = 2\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.dev is True
    assert settings.port == 9000  # the environment wins over the file
    assert settings.software_readers == 2
    assert settings.host_allowlist() == frozenset({"kiosk.local", "counter.local"})


def test_default_host_allowlist_is_loopback_only() -> None:
    hosts = Settings(dev=True).host_allowlist()
    assert "127.0.0.1" in hosts and "localhost" in hosts
    assert all(h in ("127.0.0.1", "localhost", "[::1]", "::1") for h in hosts)
