"""The symbol core: stands in for the national core system of the information-sharing
network and, for the counter, for the resident register it is fed from (住基ネット).

- `person_symbols`: a registered resident's symbols for an authorised municipality
  (its own and the portal's, which the counter links); codes not on the register are
  refused (UNKNOWN_RESIDENT), never given symbols.
- `match_identity`: does an identity read from a card belong to resident R / to the
  person behind the caller's own symbol? Match or mismatch per field, nothing else.
- `relay`: an agency's request about a person, given with its OWN symbol, is passed to
  another agency with THAT agency's symbol; the translation happens inside the core and
  neither symbol crosses over (the real design's 情報提供ネットワーク).

It never returns a resident-record code, a linkage symbol, a fact of the register or a
My Number. Derivation is one-way, so the core keeps its own index "agency symbol ->
linkage symbol" (SQLite) of every symbol it handed out; only the core has it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from simulators.core.config import (
    AGENCY_CODE,
    Agency,
    CoreConfig,
    core_dir,
    load_core_config,
    token_sha256,
)
from simulators.core.errors import (
    BadRequest,
    CoreConfigError,
    Forbidden,
    RelayRefused,
    Unauthenticated,
    UnknownAgency,
    UnknownSymbol,
)
from simulators.core.register import IdentityClaim, ResidentRegister, Verdict, match_record
from simulators.core.resident_code import check_resident_code
from simulators.core.symbols import SymbolDeriver

# What an agency answers a relayed request with; it receives its own symbol only.
Responder = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]
# Agencies whose symbol a municipality's counter may obtain with a resident code: its
# own, and the portal's, because the counter links the portal symbol to the card
# (the kiosk resolves a login to it). Any other agency is reached through `relay`.
COUNTER_LINKED_AGENCIES = ("portal",)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agency_symbols (
    agency TEXT NOT NULL,
    symbol TEXT NOT NULL,
    linkage_symbol TEXT NOT NULL,
    PRIMARY KEY (agency, symbol)
) WITHOUT ROWID;
"""


class SymbolCore:
    def __init__(
        self,
        config: CoreConfig,
        *,
        index_path: Path | None = None,
        register: ResidentRegister | None = None,
    ) -> None:
        self._deriver = SymbolDeriver(config.master_key)
        self.register = register if register is not None else ResidentRegister.from_personas()
        self._responders: dict[str, Responder] = {}
        for agency in config.agencies:
            if agency.relay_url:
                from simulators.core.relay import http_responder

                self._responders[agency.code] = http_responder(agency.relay_url)
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

    def _municipality(self, caller: str, what: str) -> Agency:
        agency = self._agency(caller)
        if not agency.resident_lookup:
            raise Forbidden(f"agency {caller!r} may not {what}")
        return agency

    def person_symbols(
        self, resident_code: str, agencies: Iterable[str], *, caller: str
    ) -> dict[str, str]:
        """A registered resident's symbol for the caller (a municipality) and for each
        agency asked among COUNTER_LINKED_AGENCIES."""
        own = self._municipality(caller, "look up residents by their code").code
        code = check_resident_code(resident_code)
        self.register.get(code)  # UNKNOWN_RESIDENT: never symbols for a code off the register
        wanted = [own]
        for agency in agencies:
            target = self._agency(agency).code
            if target != own and target not in COUNTER_LINKED_AGENCIES:
                raise Forbidden(
                    f"the core does not hand {target!r} symbols to {own!r}; relay instead"
                )
            if target not in wanted:
                wanted.append(target)
        linkage = self._deriver.linkage_symbol(code)
        symbols = {a: self._deriver.agency_symbol(linkage, a) for a in wanted}
        self._remember(linkage, symbols)
        return symbols

    # ---- identity -----------------------------------------------------------------------

    def match_identity(
        self,
        claim: IdentityClaim,
        *,
        caller: str,
        resident_code: str | None = None,
        agency_symbol: str | None = None,
    ) -> dict[str, Verdict]:
        """Does `claim` (facts read from a card) belong to the resident with
        `resident_code`, or to the person the caller knows as `agency_symbol` (the
        caller's own symbol)? Per field match / mismatch / not_given; never a fact."""
        own = self._municipality(caller, "match identities").code
        if (resident_code is None) == (agency_symbol is None):
            raise BadRequest("give exactly one of resident_code and agency_symbol")
        if not isinstance(claim, IdentityClaim) or not claim.complete:
            raise BadRequest("the claim needs all of the basic 4 facts")
        if resident_code is not None:
            record = self.register.get(resident_code)
        else:
            record = self.register.get(self._resident_of(own, agency_symbol))
        return match_record(record, claim)

    def _resident_of(self, agency: str, symbol: object) -> str:
        linkage = self._linkage_of(agency, symbol)
        for code in self.register.codes():
            if self._deriver.linkage_symbol(code) == linkage:
                return code
        raise UnknownSymbol("the person behind that symbol is no longer on the register")

    def _linkage_of(self, agency: str, symbol: object) -> str:
        if not isinstance(symbol, str):
            raise UnknownSymbol("symbol must be text")
        with self._lock:
            row = self._db.execute(
                "SELECT linkage_symbol FROM agency_symbols WHERE agency = ? AND symbol = ?",
                (agency, symbol),
            ).fetchone()
        if row is None:
            raise UnknownSymbol(f"the core issued no such {agency} symbol")
        return str(row[0])

    # ---- relay between agencies ----------------------------------------------------------

    def register_responder(self, agency: str, responder: Responder) -> None:
        """How the core reaches `agency` with relayed requests (in process: a callable;
        see simulators.core.relay for one over HTTP)."""
        self._responders[self._agency(agency).code] = responder

    def relay(
        self, symbol: str, to_agency: str, request: Mapping[str, Any], *, caller: str
    ) -> dict[str, Any]:
        """Pass `request` about the person the caller knows as `symbol` (its own symbol)
        to `to_agency`, which receives its own symbol for that person. The answer comes
        back without either agency's symbol: an answer that carries the target's
        symbol or the linkage symbol is refused (RELAY_REFUSED), not passed on."""
        source = self._agency(caller).code
        target = self._agency(to_agency).code
        if target == source:
            raise Forbidden("relay to another agency; an agency asks itself directly")
        linkage = self._linkage_of(source, symbol)
        responder = self._responders.get(target)
        if responder is None:
            raise RelayRefused(f"agency {target!r} takes no relayed requests")
        target_symbol = self._deriver.agency_symbol(linkage, target)
        self._remember(linkage, {target: target_symbol})
        try:
            answer = dict(responder(target_symbol, dict(request)))
            text = json.dumps(answer, ensure_ascii=False)
        except RelayRefused:
            raise
        except Exception as exc:  # the other agency's failure is not the caller's
            raise RelayRefused(f"agency {target!r} did not answer: {type(exc).__name__}") from exc
        if target_symbol in text or linkage in text:
            raise RelayRefused(f"the answer of {target!r} carried a symbol; not passed on")
        return answer

    def _remember(self, linkage: str, symbols: dict[str, str]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO agency_symbols (agency, symbol, linkage_symbol) "
                "VALUES (?, ?, ?)",
                [(agency, sym, linkage) for agency, sym in symbols.items()],
            )
