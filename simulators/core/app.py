"""HTTP face of the symbol core (127.0.0.1 only). Callers authenticate with their
agency's API token (`Authorization: Bearer <token>`); errors are
`{"error": {"code", "message"}}` with the status of the typed error."""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at
# run time, and the local `Caller` dependency alias must be a real object for that.

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simulators.core.core import SymbolCore
from simulators.core.errors import CoreError, Unauthenticated


class SymbolsRequest(BaseModel):
    resident_code: str = Field(max_length=32)
    agencies: list[str] = Field(default_factory=list, max_length=32)


class SymbolsResponse(BaseModel):
    agency: str  # the caller
    agency_symbols: dict[str, str]


class TranslateRequest(BaseModel):
    from_agency: str = Field(max_length=32)
    symbol: str = Field(max_length=64)
    to_agency: str = Field(max_length=32)


class TranslateResponse(BaseModel):
    to_agency: str
    symbol: str


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

    @app.post("/v1/translate")
    def translate(body: TranslateRequest, agency: Caller) -> TranslateResponse:
        symbol = core.translate(body.from_agency, body.symbol, body.to_agency, caller=agency)
        return TranslateResponse(to_agency=body.to_agency, symbol=symbol)

    return app
