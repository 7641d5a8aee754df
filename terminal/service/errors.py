"""Errors as HTTP answers. The codes, their statuses and texts are the one error table
(terminal.codes), shared with the CLI; exceptions carry their code.

Every error body is `{"error": {"code": ..., "message": ..., <fields>}}`, so routes stay
thin and the same failure always looks the same to a client. Messages never contain a
PIN (PINs are SecretStr in requests and are never formatted into exceptions) nor a
traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from card import errors as card_errors
from terminal.codes import CLI_ONLY, CODES, describe, http_status

log = logging.getLogger("mynaterm.service")

# code -> HTTP status of every code the service can answer, from the one error table
# (terminal.codes). Documented in the OpenAPI description and the README.
STATUS: dict[str, int] = {code: entry.http for code, entry in CODES.items() if code not in CLI_ONLY}


class ServiceError(Exception):
    """An error with a stable code; `fields` go into the error body."""

    def __init__(self, code: str, message: str, *, status: int | None = None, **fields: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or http_status(code)
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.fields}}


def to_service_error(exc: BaseException) -> ServiceError | None:
    """The ServiceError for an exception that carries a code of the table (see
    terminal.codes.describe); None for anything else (an internal error)."""
    if isinstance(exc, ServiceError):
        return exc
    failure = describe(exc)
    if failure is None:
        return None
    return ServiceError(failure.code, failure.message, **failure.fields)


def error_response(error: ServiceError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def _error_families() -> list[type[Exception]]:
    from jpki.auth.errors import AuthTokenError
    from jpki.cms import CmsError
    from jpki.errors import DigestError
    from jpki.validation.errors import ValidationError
    from terminal.audit.trail import AuditError
    from terminal.db.errors import StoreError
    from terminal.linkage.errors import LinkageError

    return [
        card_errors.CardError,
        ValidationError,
        AuthTokenError,
        CmsError,
        DigestError,
        LinkageError,
        StoreError,
        AuditError,
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": [str(p) for p in err.get("loc", ())], "problem": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        # Inputs are never echoed back: a PIN field could be among them.
        return error_response(
            ServiceError("VALIDATION_ERROR", "the request is not valid", problems=problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "UNAUTHENTICATED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            406: "NOT_ACCEPTABLE",
            413: "PAYLOAD_TOO_LARGE",
            415: "UNSUPPORTED_MEDIA_TYPE",
        }.get(exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").lower()
        return error_response(ServiceError(code, message, status=exc.status_code))

    async def _mapped(request: Request, exc: Exception) -> JSONResponse:
        mapped = to_service_error(exc)
        if mapped is None:
            log.error(
                "unmapped %s on %s %s",
                type(exc).__name__,
                request.method,
                request.url.path,
                exc_info=exc,
            )
            mapped = ServiceError("INTERNAL_ERROR", "internal error")
        return error_response(mapped)

    # The error families of the layers below, handled as responses (not as crashes:
    # handlers for these run before the server-error middleware logs a traceback).
    for family in _error_families():
        app.add_exception_handler(family, _mapped)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        mapped = to_service_error(exc)
        if mapped is not None:
            return error_response(mapped)
        # The traceback goes to the server log only; exception texts from the card layer
        # never hold PINs (VERIFY data is not part of any message).
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(ServiceError("INTERNAL_ERROR", "internal error"))
