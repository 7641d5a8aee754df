"""Settings refuse insecure values outside dev mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from terminal.service.security import hash_password
from terminal.service.settings import OperatorAccount, Role, Settings, load_settings

SECRET = "hM3vQ9tL0xR7cW2nB5yK8pJ4fD6gS1aZ"


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
        Settings(session_secret=SECRET, operators=[account(weak)], trust="jpki-production")


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


@pytest.fixture(scope="module")
def strong_account() -> OperatorAccount:
    return account("a-long-unique-password")


def _production(strong_account: OperatorAccount, **changes: object) -> Settings:
    values: dict[str, object] = {
        "session_secret": SECRET,
        "operators": [strong_account],
        "trust": "jpki-production",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def test_a_sound_production_configuration_is_accepted(strong_account: OperatorAccount) -> None:
    settings = _production(strong_account, allowed_origins=["https://counter.example"])
    assert settings.trust == "jpki-production" and not settings.simulator_controls


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"simulator_controls": True}, "simulator_controls"),
        ({"allowed_origins": ["null"]}, "not an http"),
        ({"allowed_origins": ["*"]}, "not an http"),
        ({"allowed_hosts": ["*"]}, "wildcards"),
        ({"session_secret": "s" * 40}, "low-entropy"),
        ({"session_secret": "abcd" * 10}, "low-entropy"),
        ({"session_secret": "0123456789" * 4}, "low-entropy"),
        ({"session_ttl_seconds": 10 * 365 * 86400}, "over the maximum"),
        ({"trust": "local-test-pki"}, "jpki-production"),
    ],
    ids=[
        "simulator-controls",
        "origin-null",
        "origin-star",
        "hosts-star",
        "secret-one-char",
        "secret-pattern",
        "secret-digits-pattern",
        "ten-year-session",
        "local-test-pki",
    ],
)
def test_production_refuses_what_only_dev_may_run(
    strong_account: OperatorAccount, changes: dict[str, object], message: str
) -> None:
    """Issue 14 #9: each was accepted outside dev."""
    with pytest.raises(ValidationError, match=message):
        _production(strong_account, **changes)


def test_dev_mode_still_allows_the_dev_settings() -> None:
    settings = Settings(dev=True, simulator_controls=True, trust="local-test-pki")
    assert settings.simulator_controls
