"""The symbol core: stands in for the national core system of the information-sharing
network. It turns a resident-record code into agency-specific symbols and translates
between agencies' symbols; it never returns a resident-record code, a linkage symbol
or a My Number (it never sees the latter).

Derivation is one-way, so the core keeps its own index "agency symbol -> linkage symbol"
(SQLite) of every symbol it handed out; that index is what makes translation possible,
and only the core has it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from simulators.core.config import (
    AGENCY_CODE,
    Agency,
    CoreConfig,
    core_dir,
    load_core_config,
    token_sha256,
)
from simulators.core.errors import (
    CoreConfigError,
    Forbidden,
    InvalidResidentCode,
    Unauthenticated,
    UnknownAgency,
    UnknownSymbol,
)
from simulators.core.symbols import SymbolDeriver

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agency_symbols (
    agency TEXT NOT NULL,
    symbol TEXT NOT NULL,
    linkage_symbol TEXT NOT NULL,
    PRIMARY KEY (agency, symbol)
) WITHOUT ROWID;
"""


def check_resident_code(value: object) -> str:
    if not isinstance(value, str) or len(value) != 11 or not value.isascii() or not value.isdigit():
        raise InvalidResidentCode("a resident-record code (住民票コード) is 11 digits")
    return value


class SymbolCore:
    def __init__(self, config: CoreConfig, *, index_path: Path | None = None) -> None:
        self._deriver = SymbolDeriver(config.master_key)
        self._agencies = {a.code: a for a in config.agencies}
        self._tokens = dict(config.token_hashes)
        self._lock = threading.Lock()
        target = ":memory:" if index_path is None else str(index_path)
        try:
            if index_path is not None:
                index_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.close(os.open(index_path, os.O_RDWR | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CoreConfigError(f"cannot open the core index {target}: {exc}") from exc

    @classmethod
    def from_environment(cls, *, dev: bool = False, index_path: Path | None = None) -> SymbolCore:
        """A core configured from the environment (see simulators.core.config), its
        index at `index_path` or mynaterm_home()/core/index.db."""
        return cls(load_core_config(dev=dev), index_path=index_path or core_dir() / "index.db")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- agencies and callers -------------------------------------------------------

    def agencies(self) -> list[Agency]:
        return sorted(self._agencies.values(), key=lambda a: a.code)

    def register_agency(
        self, code: str, name: str, *, token: str | None = None, resident_lookup: bool = False
    ) -> Agency:
        if not AGENCY_CODE.match(code):
            raise UnknownAgency(f"bad agency code {code!r}")
        agency = self._agencies[code] = Agency(code, name, resident_lookup)
        if token is not None:
            self._tokens[token_sha256(token)] = code
        return agency

    def _agency(self, code: object) -> Agency:
        if not isinstance(code, str) or code not in self._agencies:
            raise UnknownAgency(f"agency {code!r} is not registered with the core")
        return self._agencies[code]

    def authenticate(self, token: str | None) -> str:
        """The agency a caller's API token belongs to."""
        if not token:
            raise Unauthenticated("an agency API token is required")
        agency = self._tokens.get(token_sha256(token))
        if agency is None:
            raise Unauthenticated("unknown API token")
        return agency

    # ---- symbols ----------------------------------------------------------------------

    def person_symbols(
        self, resident_code: str, agencies: Iterable[str], *, caller: str
    ) -> dict[str, str]:
        """The person's symbol for each agency asked, plus the caller's own."""
        if not self._agency(caller).resident_lookup:
            raise Forbidden(f"agency {caller!r} may not look up residents by their code")
        code = check_resident_code(resident_code)
        wanted = [self._agency(caller).code]
        for agency in agencies:
            if self._agency(agency).code not in wanted:
                wanted.append(agency)
        linkage = self._deriver.linkage_symbol(code)
        symbols = {a: self._deriver.agency_symbol(linkage, a) for a in wanted}
        self._remember(linkage, symbols)
        return symbols

    def translate(self, from_agency: str, symbol: str, to_agency: str, *, caller: str) -> str:
        """The `to_agency` symbol of the person whom `from_agency` knows as `symbol`. The
        caller asks with its own symbol only."""
        source = self._agency(from_agency).code
        target = self._agency(to_agency).code
        if self._agency(caller).code != source:
            raise Forbidden("an agency may only translate its own symbols")
        if not isinstance(symbol, str):
            raise UnknownSymbol("symbol must be text")
        with self._lock:
            row = self._db.execute(
                "SELECT linkage_symbol FROM agency_symbols WHERE agency = ? AND symbol = ?",
                (source, symbol),
            ).fetchone()
        if row is None:
            raise UnknownSymbol(f"the core issued no such {source} symbol")
        translated = self._deriver.agency_symbol(row[0], target)
        self._remember(row[0], {target: translated})
        return translated

    def _remember(self, linkage: str, symbols: dict[str, str]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO agency_symbols (agency, symbol, linkage_symbol) "
                "VALUES (?, ?, ?)",
                [(agency, sym, linkage) for agency, sym in symbols.items()],
            )
