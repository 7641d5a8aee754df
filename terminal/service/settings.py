"""Service settings: environment (MYNATERM_*), an optional TOML/JSON file, or code.

Outside dev mode the settings refuse what would be unsafe at a real counter: no
operators or operators with a well-known password, a session secret that was generated
at start (sessions would not survive a restart and nobody chose it), and listening on a
non-loopback address without TLS or an explicit, named override."""

from __future__ import annotations

import functools
import ipaddress
import json
import secrets
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Role(StrEnum):
    """What an operator may do. clerk: issuance/renewal/revocation, sees the My Number
    masked; officer: clerk + may reveal the My Number (audited); kiosk: resident login
    only; admin: everything, including the audit trail."""

    CLERK = "clerk"
    OFFICER = "officer"
    KIOSK = "kiosk"
    ADMIN = "admin"


class OperatorAccount(BaseModel):
    """One operator (職員) or kiosk machine account. `password_hash` is the scrypt string
    made by terminal.service.security.hash_password."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password_hash: str = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    # A kiosk machine's own reader (its name as the service lists it): a kiosk-only
    # account sees and uses that reader alone. Required for kiosk accounts outside dev.
    reader: str | None = Field(default=None, min_length=1, max_length=200)


# Passwords that must never guard a real counter: the ones in docs and examples.
WELL_KNOWN_PASSWORDS = frozenset(
    {"admin", "password", "changeme", "clerk", "officer", "kiosk", "demo", "mynaterm", "1234"}
)


class InsecureSettingsError(ValueError):
    """The settings would run the service unsafely outside dev mode."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MYNATERM_", env_nested_delimiter="__", extra="ignore"
    )

    dev: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # Binding beyond loopback without TLS needs this, named so that nobody sets it by
    # accident (e.g. behind a TLS-terminating proxy on the same host).
    allow_insecure_bind: bool = False

    # Host header allowlist (DNS rebinding) and Origin allowlist (CSRF). Empty means
    # "derived from host/port": loopback names and the bind address.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Secret that keys session tokens; generated in dev mode when not given.
    session_secret: SecretStr | None = None
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    # Idle timeouts: a counter session unused this long ends (SESSION_EXPIRED); the
    # kiosk machine's session sits idle between residents, so 0 (none) by default.
    session_idle_seconds: int = Field(default=15 * 60, ge=0)
    kiosk_session_idle_seconds: int = Field(default=0, ge=0)
    operators: list[OperatorAccount] = Field(default_factory=list)

    # Readers: software readers are in process, each may start with a persona's card.
    software_readers: int = Field(default=0, ge=0, le=64)
    software_cards_dir: Path | None = None
    pcsc: bool = False
    # Dev/demo only: lets the pages insert and pull software cards.
    simulator_controls: bool = False
    # Outside dev /metrics needs an admin session and /openapi.json is not served,
    # unless these say otherwise.
    metrics_public: bool = False
    expose_openapi: bool = False

    # Lower layers. Dev mode fills what is not given with the embedded defaults under
    # mynaterm home (the dev wing, terminal.dev.local: test PKI, in-process dev core, SQLite).
    # Trust: the real J-LIS CAs by default; the local test PKI by default only in dev
    # mode, and it works only with the dev wing plugged in (terminal.dev.wing.DevWing).
    trust: Literal["local-test-pki", "jpki-production"] | None = None
    pki_dir: Path | None = None
    crl_dir: Path | None = None  # jpki-production: where verified CRLs are kept
    # Keys the MAC of persisted CRL indexes (kept here, never in crl_dir): with it a
    # restart uses them at once; without it each is rebuilt from its re-verified CRL.
    crl_index_key: SecretStr | None = Field(default=None, min_length=16)
    database_url: str | None = None
    core_url: str | None = None
    core_token: SecretStr | None = None
    core_agency: str = Field(default="city-13101", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    challenge_ttl_seconds: int = Field(default=120, ge=5, le=3600)
    portal_origin: str = "https://portal.mynaterm.test"
    # Names this machine in the audit trail (who acted: operator + terminal).
    terminal_id: str = Field(default="terminal-01", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _default_trust(self) -> Settings:
        if self.trust is None:
            self.trust = "local-test-pki" if self.dev else "jpki-production"
        return self

    @model_validator(mode="after")
    def _refuse_insecure(self) -> Settings:
        if self.session_secret is None:
            if not self.dev:
                raise InsecureSettingsError("MYNATERM_SESSION_SECRET must be set outside dev mode")
            self.session_secret = SecretStr(secrets.token_urlsafe(32))
        if not self.dev:
            if not self.operators:
                raise InsecureSettingsError("no operator accounts configured")
            for account in self.operators:
                if _uses_well_known_password(account.password_hash):
                    raise InsecureSettingsError(
                        f"operator {account.username!r} uses a well-known password"
                    )
            if len(self.session_secret.get_secret_value()) < 32:
                raise InsecureSettingsError("the session secret needs at least 32 characters")
            _refuse_outside_dev(self)
        if self.core_url is not None and self.core_token is None:
            raise InsecureSettingsError("core_url needs core_token")
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise InsecureSettingsError("give both tls_certfile and tls_keyfile, or neither")
        if (
            not is_loopback(self.host)
            and self.tls_certfile is None
            and not self.allow_insecure_bind
        ):
            raise InsecureSettingsError(
                f"refusing to listen on {self.host} without TLS; "
                "set tls_certfile/tls_keyfile or allow_insecure_bind"
            )
        return self

    @property
    def tls(self) -> bool:
        return self.tls_certfile is not None

    def host_allowlist(self) -> frozenset[str]:
        """Host header values accepted (without port)."""
        if self.allowed_hosts:
            return frozenset(h.lower() for h in self.allowed_hosts)
        hosts = {"127.0.0.1", "localhost", "[::1]", "::1"}
        if self.host not in ("0.0.0.0", "::"):  # noqa: S104 - a comparison, not a bind
            hosts.add(self.host.lower())
        return frozenset(hosts)

    def origin_allowlist(self, port: int | None = None) -> frozenset[str]:
        """Browser Origins accepted for state-changing requests."""
        if self.allowed_origins:
            return frozenset(o.rstrip("/").lower() for o in self.allowed_origins)
        scheme = "https" if self.tls else "http"
        port = port or self.port
        return frozenset(
            f"{scheme}://{host}:{port}" for host in self.host_allowlist() if host != "::1"
        )


# A session lasting longer than a working day is a session nobody watches.
MAX_SESSION_TTL_SECONDS = 12 * 3600


def _refuse_outside_dev(settings: Settings) -> None:
    """What only a developer's machine may run with; each refusal says what to change."""
    if settings.simulator_controls:
        raise InsecureSettingsError(
            "simulator_controls lets any page insert and pull simulated cards: dev mode only"
        )
    if settings.trust == "local-test-pki":
        raise InsecureSettingsError(
            "trust=local-test-pki trusts this machine's own test CA: outside dev mode set "
            "trust=jpki-production (the real J-LIS anchors)"
        )
    for origin in settings.allowed_origins:
        folded = origin.strip().rstrip("/").lower()
        if folded in ("null", "*") or not folded.startswith(("https://", "http://")):
            raise InsecureSettingsError(
                f"allowed_origins entry {origin!r} is not an http(s) origin; "
                "list the pages' origins, e.g. https://counter.example"
            )
    for host in settings.allowed_hosts:
        if "*" in host or not host.strip():
            raise InsecureSettingsError(
                f"allowed_hosts entry {host!r}: wildcards are not supported; list the names"
            )
    if settings.session_ttl_seconds > MAX_SESSION_TTL_SECONDS:
        raise InsecureSettingsError(
            f"session_ttl_seconds {settings.session_ttl_seconds} is over the maximum of "
            f"{MAX_SESSION_TTL_SECONDS} (12 h)"
        )
    secret = settings.session_secret.get_secret_value() if settings.session_secret else ""
    if _low_entropy(secret):
        raise InsecureSettingsError(
            "the session secret is low-entropy (few distinct characters or a repeated "
            "pattern); generate one, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'"
        )


def _low_entropy(secret: str) -> bool:
    """One repeated character, a few characters only, or a short pattern repeated."""
    if len(set(secret)) < 10:
        return True
    return any(
        secret == (secret[:period] * (len(secret) // period + 1))[: len(secret)]
        for period in range(1, len(secret) // 2 + 1)
    )


@functools.lru_cache(maxsize=256)
def _uses_well_known_password(password_hash: str) -> bool:
    # scrypt is slow on purpose; a hash is checked once per process.
    from terminal.service.passwords import verify_password

    return any(verify_password(weak, password_hash) for weak in WELL_KNOWN_PASSWORDS)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from a TOML or JSON file (if given), then the environment, then
    `overrides` (highest)."""
    from terminal.config import refuse_renamed_settings

    refuse_renamed_settings()
    values: dict[str, Any] = {}
    if path is not None:
        text = path.read_text(encoding="utf-8")
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    values.update(overrides)
    # BaseSettings gives init arguments precedence over the environment; the file's
    # values should not override the environment, so only pass the keys the
    # environment does not set.
    env_keys = {name for name in Settings.model_fields if _env_has(name)}
    init = {k: v for k, v in values.items() if k not in env_keys or k in overrides}
    return Settings(**init)


def _env_has(field: str) -> bool:
    import os

    prefix = f"MYNATERM_{field.upper()}"
    return any(key == prefix or key.startswith(prefix + "__") for key in os.environ)
