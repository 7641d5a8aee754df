"""The symbol core in this process: `InProcessCoreClient` speaks to a simulated
`SymbolCore` object with the same interface and typed errors as the HTTP `CoreClient`
(tests, the demo, `serve --dev`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulators.core.core import SymbolCore
from simulators.core.errors import CoreError
from simulators.core.register import IdentityClaim
from terminal.linkage.core_client import IDENTITY_FIELDS, CoreClientError, check_verdicts


class InProcessCoreClient:
    """The same interface on a `SymbolCore` object in this process."""

    def __init__(self, core: SymbolCore, token: str) -> None:
        self._core = core
        self.agency = self._call(core.authenticate, token)

    def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoreError as exc:  # same codes as over HTTP
            raise CoreClientError(str(exc), code=exc.code) from exc

    def person_symbols(self, resident_code: str, agencies: Iterable[str] = ()) -> dict[str, str]:
        result: dict[str, str] = self._call(
            self._core.person_symbols, resident_code, list(agencies), caller=self.agency
        )
        return result

    def match_identity(
        self,
        facts: Mapping[str, str | None],
        *,
        resident_code: str | None = None,
        agency_symbol: str | None = None,
    ) -> dict[str, str]:
        claim = IdentityClaim(**{k: facts.get(k) for k in IDENTITY_FIELDS})
        fields = self._call(
            self._core.match_identity,
            claim,
            caller=self.agency,
            resident_code=resident_code,
            agency_symbol=agency_symbol,
        )
        return check_verdicts({k: str(v) for k, v in fields.items()})

    def relay(self, symbol: str, to_agency: str, request: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            self._core.relay, symbol, to_agency, request, caller=self.agency
        )
        return result
