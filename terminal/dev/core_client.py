"""The symbol core in this process: `InProcessCoreClient` speaks to a simulated
`SymbolCore` object with the same interface and typed errors as the HTTP `CoreClient`
(tests, the demo, `serve --dev`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulators.core.core import SymbolCore
from simulators.core.errors import CoreError
from terminal.linkage.core_client import CoreClientError


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

    def translate(self, from_agency: str, symbol: str, to_agency: str) -> str:
        result: str = self._call(
            self._core.translate, from_agency, symbol, to_agency, caller=self.agency
        )
        return result
