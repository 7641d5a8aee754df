"""The HTTP client of the symbol core (`CoreClient`) and what callers need of any core
client (`SymbolSource`). It speaks as one agency (the terminal's own, e.g. the issuing
municipality) and raises typed errors. The in-process client over the simulated core
lives in the dev wing (terminal.dev.core_client) and raises the same errors.

Identity facts go to the core as a mapping {name, birth_date, sex, address, my_number}
(values as read from the card, or None) and come back as a verdict per field
("match" / "mismatch" / "not_given"), never as facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import httpx

from terminal.linkage.errors import LinkageError
from terminal.linkage.types import PORTAL_AGENCY

# The core's codes that mean the same to the terminal's callers. Every other code of
# the core (UNAUTHENTICATED, FORBIDDEN, UNKNOWN_AGENCY, ...) concerns the terminal's own
# credentials or configuration at the core, not the operator: it stays in `core_code`
# and the terminal reports CORE_ERROR (never a 401/403 to the operator).
# The core's refusals of a resident code mean the same at the counter (issue 10).
_PASSED_THROUGH = frozenset(
    {"INVALID_RESIDENT_CODE", "RESIDENT_CODE_CHECK_DIGIT", "UNKNOWN_RESIDENT", "CORE_UNAVAILABLE"}
)


class CoreClientError(LinkageError):
    """The core refused or failed. `core_code` is the core's own code when it gave one;
    `code` is the terminal's (CORE_ERROR unless the core's code means the same here)."""

    code = "CORE_ERROR"
    show_message = False  # the core's words are for the log

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.core_code = code
        if code in _PASSED_THROUGH:
            self.code = code


class CoreUnavailable(CoreClientError):
    code = "CORE_UNAVAILABLE"


class CoreProtocolError(CoreClientError):
    """The core answered something that is not its API."""

    code = "CORE_PROTOCOL"


class SymbolSource(Protocol):
    """What the registry's callers need from the core."""

    agency: str

    def person_symbols(
        self, resident_code: str, agencies: Iterable[str] = ()
    ) -> dict[str, str]: ...

    def match_identity(
        self,
        facts: Mapping[str, str | None],
        *,
        resident_code: str | None = None,
        agency_symbol: str | None = None,
    ) -> dict[str, str]: ...

    def relay(self, symbol: str, to_agency: str, request: Mapping[str, Any]) -> dict[str, Any]: ...


IDENTITY_FIELDS = ("name", "birth_date", "sex", "address", "my_number")
VERDICTS = frozenset({"match", "mismatch", "not_given"})


def check_verdicts(fields: object) -> dict[str, str]:
    if (
        not isinstance(fields, dict)
        or set(fields) != set(IDENTITY_FIELDS)
        or not all(v in VERDICTS for v in fields.values())
    ):
        raise CoreProtocolError("the core's identity verdict is malformed")
    return {str(k): str(v) for k, v in fields.items()}


def symbols_for_issuance(
    core: SymbolSource, resident_code: str, extra: Iterable[str] = ()
) -> dict[str, str]:
    """The symbols a counter links at issuance: portal, the terminal's own, `extra`."""
    return core.person_symbols(resident_code, [PORTAL_AGENCY, *extra])


class CoreClient:
    """HTTP client of the symbol core (httpx, bounded timeouts, typed errors)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        agency: str,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.agency = agency
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CoreClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(path, json=body)
        except httpx.TimeoutException as exc:
            raise CoreUnavailable(f"the core did not answer in time ({path})") from exc
        except httpx.HTTPError as exc:
            raise CoreUnavailable(f"cannot reach the core: {exc}") from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise CoreProtocolError(
                f"the core answered {response.status_code} without JSON"
            ) from exc
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict) and isinstance(error.get("code"), str):
                raise CoreClientError(str(error.get("message", "")), code=error["code"])
            raise CoreProtocolError(f"the core answered {response.status_code}")
        if not isinstance(payload, dict):
            raise CoreProtocolError("the core answered a non-object")
        return payload

    def person_symbols(self, resident_code: str, agencies: Iterable[str] = ()) -> dict[str, str]:
        payload = self._post(
            "/v1/persons/symbols", {"resident_code": resident_code, "agencies": list(agencies)}
        )
        symbols = payload.get("agency_symbols")
        if not isinstance(symbols, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in symbols.items()
        ):
            raise CoreProtocolError("agency_symbols missing or malformed")
        return dict(symbols)

    def match_identity(
        self,
        facts: Mapping[str, str | None],
        *,
        resident_code: str | None = None,
        agency_symbol: str | None = None,
    ) -> dict[str, str]:
        payload = self._post(
            "/v1/identity/match",
            {
                "identity": {k: facts.get(k) for k in IDENTITY_FIELDS},
                "resident_code": resident_code,
                "agency_symbol": agency_symbol,
            },
        )
        return check_verdicts(payload.get("fields"))

    def relay(self, symbol: str, to_agency: str, request: Mapping[str, Any]) -> dict[str, Any]:
        payload = self._post(
            "/v1/relay", {"symbol": symbol, "to_agency": to_agency, "request": dict(request)}
        )
        answer = payload.get("answer")
        if not isinstance(answer, dict):
            raise CoreProtocolError("answer missing from the relay")
        return answer
