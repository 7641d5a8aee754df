"""HTTP face of the symbol core (127.0.0.1 only). Callers authenticate with their
agency's API token (`Authorization: Bearer <token>`); errors are
`{"error": {"code", "message"}}` with the status of the typed error."""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at
# run time, and the local `Caller` dependency alias must be a real object for that.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simulators.core.core import SymbolCore
from simulators.core.errors import CoreError, Unauthenticated
from simulators.core.register import IdentityClaim, Verdict


class SymbolsRequest(BaseModel):
    resident_code: str = Field(max_length=32)
    agencies: list[str] = Field(default_factory=list, max_length=32)


class SymbolsResponse(BaseModel):
    agency: str  # the caller
    agency_symbols: dict[str, str]


class IdentityIn(BaseModel):
    """Facts as read from a card (never logged, never echoed)."""

    name: str = Field(max_length=1024)
    birth_date: str = Field(max_length=16)
    sex: str = Field(max_length=2)
    address: str = Field(max_length=1024)
    my_number: str | None = Field(default=None, max_length=16)


class MatchRequest(BaseModel):
    identity: IdentityIn
    resident_code: str | None = Field(default=None, max_length=32)
    agency_symbol: str | None = Field(default=None, max_length=64)


class MatchResponse(BaseModel):
    fields: dict[str, Verdict]
    match: bool


class RelayRequest(BaseModel):
    symbol: str = Field(max_length=64)  # the caller's own symbol of the person
    to_agency: str = Field(max_length=32)
    request: dict[str, Any] = Field(default_factory=dict)


class RelayResponse(BaseModel):
    to_agency: str
    answer: dict[str, Any]


class AgencyOut(BaseModel):
    code: str
    name: str


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def create_core_app(core: SymbolCore) -> FastAPI:
    app = FastAPI(title="mynaterm symbol core", version="1")

    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> JSONResponse:
        return _error(exc.http_status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the input back: it may hold a resident-record code.
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()})
        return _error(422, "INVALID_REQUEST", f"invalid fields: {', '.join(fields)}")

    def caller(authorization: Annotated[str | None, Header()] = None) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("send Authorization: Bearer <agency API token>")
        return core.authenticate(authorization.removeprefix("Bearer ").strip())

    Caller = Annotated[str, Depends(caller)]

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/agencies")
    def agencies(_agency: Caller) -> list[AgencyOut]:
        return [AgencyOut(code=a.code, name=a.name) for a in core.agencies()]

    @app.post("/v1/persons/symbols")
    def person_symbols(body: SymbolsRequest, agency: Caller) -> SymbolsResponse:
        symbols = core.person_symbols(body.resident_code, body.agencies, caller=agency)
        return SymbolsResponse(agency=agency, agency_symbols=symbols)

    @app.post("/v1/identity/match")
    def identity_match(body: MatchRequest, agency: Caller) -> MatchResponse:
        claim = IdentityClaim(**body.identity.model_dump())
        fields = core.match_identity(
            claim,
            caller=agency,
            resident_code=body.resident_code,
            agency_symbol=body.agency_symbol,
        )
        decided = [v for v in fields.values() if v != Verdict.NOT_GIVEN]
        return MatchResponse(fields=fields, match=all(v == Verdict.MATCH for v in decided))

    @app.post("/v1/relay")
    def relay(body: RelayRequest, agency: Caller) -> RelayResponse:
        answer = core.relay(body.symbol, body.to_agency, body.request, caller=agency)
        return RelayResponse(to_agency=body.to_agency, answer=answer)

    return app
