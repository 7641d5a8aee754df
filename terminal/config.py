"""The settings the CLI reads, by the same names as the service's (terminal.service.
settings.Settings): one name per setting, read through pydantic-settings.

| variable                 | CLI                          | service          |
|--------------------------|------------------------------|------------------|
| MYNATERM_HOME            | state directory              | state directory  |
| MYNATERM_DATABASE_URL    | the store (default SQLite)   | the store        |
| MYNATERM_TERMINAL_ID     | terminal in the audit trail  | the same         |
| MYNATERM_OPERATOR        | operator in the audit trail  | (sessions)       |
| MYNATERM_CRL_INDEX_KEY   | MAC key of the CRL indexes   | the same         |
"""

from __future__ import annotations

import os

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Old names that must not be set any more: silently ignoring one would run on the
# wrong database.
RENAMED = {"MYNATERM_DB_URL": "MYNATERM_DATABASE_URL"}


class RenamedSettingError(ValueError):
    code = "SETTINGS"


def refuse_renamed_settings() -> None:
    """Raise when an old variable name is set: say which name replaced it."""
    for old, new in RENAMED.items():
        if os.environ.get(old):
            raise RenamedSettingError(f"{old} was renamed {new}; set {new} instead")


class CliConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MYNATERM_", extra="ignore")

    database_url: str | None = None
    terminal_id: str | None = None
    operator: str | None = None
    # Keys persisted CRL indexes (jpki.validation.crlstore): without it the CLI verifies
    # each held CRL again and rebuilds its index; never kept in the CRL directory.
    crl_index_key: SecretStr | None = Field(default=None, min_length=16)


def cli_config() -> CliConfig:
    refuse_renamed_settings()
    return CliConfig()
