"""Stable error codes and their HTTP statuses.

Every error body is `{"error": {"code": ..., "message": ..., <fields>}}`. Library errors
are turned into codes here, in one place, so routes stay thin and the same failure
always looks the same to a client. Messages never contain a PIN (PINs are SecretStr in
requests and are never formatted into exceptions) nor a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from card import errors as card_errors

log = logging.getLogger("mynaterm.service")

# code -> HTTP status. Documented in the OpenAPI description and the README table.
STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 422,
    "UNAUTHENTICATED": 401,
    "TOO_MANY_ATTEMPTS": 429,
    "FORBIDDEN": 403,
    "HOST_NOT_ALLOWED": 421,
    "ORIGIN_NOT_ALLOWED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "NOT_ACCEPTABLE": 406,
    "NOT_AVAILABLE": 501,
    # card and reader
    "NO_READER": 404,
    "NO_CARD": 409,
    "CARD_REMOVED": 409,
    "READER_BUSY": 409,
    "PCSC_UNAVAILABLE": 503,
    "CARD_TIMEOUT": 504,
    "CARD_ERROR": 502,
    "MALFORMED_CARD_RESPONSE": 502,
    "NOT_A_MYNUMBER_CARD": 422,
    "SECURITY_STATUS_NOT_SATISFIED": 409,
    # PINs
    "PIN_INCORRECT": 422,
    "PIN_BLOCKED": 423,
    "PIN_FORMAT": 422,
    "PIN_NOT_SET": 409,
    "PIN_ALREADY_SET": 409,
    "PIN_MISMATCH": 422,
    # the card's life at the counter (issue 15; the admin channel is a model)
    "FACE_TO_FACE_REQUIRED": 422,
    "IDENTITY_MISMATCH": 409,
    "NO_SIGN_CERTIFICATE": 409,
    "ISSUER_REFUSED": 502,
    "ISSUER_AUTH_FAILED": 502,
    "CARD_ADMIN_ERROR": 502,
    "CARD_ADMIN_REFUSED": 502,
    "ACTIVATION_REFUSED": 502,
    "KEY_CERTIFICATION_FAILED": 502,
    # certificates and revocation
    "CERT_REVOKED": 422,
    "CERT_EXPIRED": 422,
    "CERT_NOT_YET_VALID": 422,
    "CERT_UNTRUSTED": 422,
    "CERT_INVALID": 422,
    "CERT_MALFORMED": 422,
    "REVOCATION_UNKNOWN": 503,
    # login tokens and signatures
    "CHALLENGE_UNKNOWN": 422,
    "CHALLENGE_EXPIRED": 422,
    "CHALLENGE_REPLAYED": 409,
    "ORIGIN_MISMATCH": 422,
    "SIGNATURE_INVALID": 422,
    "TOKEN_MALFORMED": 422,
    # linkage
    "LINK_CONFLICT": 409,
    "LINK_NOT_FOUND": 404,
    "PERSON_NOT_FOUND": 404,
    "NOT_LINKED": 404,
    "CORE_UNAVAILABLE": 503,
    "UNKNOWN_SERIAL": 404,
    "UNKNOWN_PERSON": 404,
    "AMBIGUOUS_SERIAL": 409,
    "ALREADY_RENEWED": 409,
    "ACTIVE_CARD_EXISTS": 409,
    "SYMBOL_CONFLICT": 409,
    "CHAIN_LOOP": 409,
    "INVALID_CERT_INFO": 422,
    "INVALID_REQUEST": 422,
    "INVALID_RESIDENT_CODE": 422,
    "MYNUMBER_INDEX_NOT_CONFIGURED": 501,
    "MYNUMBER_MISMATCH": 409,
    "CORE_ERROR": 502,
    "STORE_UNAVAILABLE": 503,
    "STORE_BUSY": 503,
    "STORE_CONFLICT": 409,
    "STORE_ERROR": 503,
    "CHALLENGE_NOT_FOUND": 422,
    "AUTH_FAILED": 422,
    "VALIDATION_FAILED": 422,
    "CMS_INVALID": 422,
    "CMS_MALFORMED": 422,
    "CMS_DIGEST_MISMATCH": 422,
    "CMS_SIGNATURE_INVALID": 422,
    "CMS_SIGNER_CERT_MISMATCH": 422,
    "INTERNAL_ERROR": 500,
}


class ServiceError(Exception):
    """An error with a stable code; `fields` go into the error body."""

    def __init__(self, code: str, message: str, *, status: int | None = None, **fields: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.fields}}


def _card_error(exc: Exception) -> ServiceError | None:
    # Order matters: subclasses before their bases.
    if isinstance(exc, card_errors.InvalidPinError):
        return (
            ServiceError("PIN_INCORRECT", "the PIN is incorrect", remaining=exc.remaining)
            if exc.remaining > 0
            else ServiceError("PIN_BLOCKED", "the PIN is blocked", remaining=0)
        )
    if isinstance(exc, card_errors.PinBlockedError):
        return ServiceError(
            "PIN_BLOCKED",
            "the PIN is blocked; it can be reset only at the municipal counter",
            remaining=0,
        )
    if isinstance(exc, card_errors.PinNotSetError):
        return ServiceError(
            "PIN_NOT_SET", "the PIN is not set yet; the holder sets it at the municipal counter"
        )
    if isinstance(exc, card_errors.SecurityStatusNotSatisfiedError):
        return ServiceError("SECURITY_STATUS_NOT_SATISFIED", "the card wants a PIN first")
    if isinstance(exc, card_errors.NotFoundError):
        return ServiceError("NOT_A_MYNUMBER_CARD", "this card is not an Individual Number Card")
    table: list[tuple[type[Exception], str, str]] = [
        (card_errors.CardRemovedError, "CARD_REMOVED", "the card was removed during the operation"),
        (card_errors.NoCardError, "NO_CARD", "no card in the reader"),
        (card_errors.ReaderRemovedError, "NO_READER", "the reader was detached"),
        (card_errors.NoReaderError, "NO_READER", "no such reader"),
        (card_errors.ReaderBusyError, "READER_BUSY", "the reader is busy with another client"),
        (card_errors.PcscUnavailableError, "PCSC_UNAVAILABLE", "the PC/SC service is not running"),
        (card_errors.CardTimeoutError, "CARD_TIMEOUT", "the card did not answer in time"),
        (
            card_errors.MalformedResponseError,
            "MALFORMED_CARD_RESPONSE",
            "the card's answer was malformed",
        ),
        (card_errors.TransportError, "CARD_ERROR", "the reader reported an error"),
        (card_errors.ApduError, "CARD_ERROR", "the card refused the command"),
    ]
    for kind, code, message in table:
        if isinstance(exc, kind):
            return ServiceError(code, message)
    return None


def _jpki_error(exc: Exception) -> ServiceError | None:
    """Errors of jpki/ and terminal/ layers, matched by name so the service keeps
    working while those modules are still being written."""
    name = type(exc).__name__
    if name == "PinFormatError":
        return ServiceError("PIN_FORMAT", _safe_message(exc, "the PIN has the wrong format"))
    if name == "NotAMyNumberCardError":
        return ServiceError("NOT_A_MYNUMBER_CARD", "this card is not an Individual Number Card")
    if any(cls.__name__ == "CoreClientError" for cls in type(exc).__mro__):
        # The core's own codes (UNAUTHENTICATED, FORBIDDEN) concern the terminal's
        # credentials at the core, not the operator: never show them as 401/403 here.
        if getattr(exc, "code", None) == "INVALID_RESIDENT_CODE":
            return ServiceError("INVALID_RESIDENT_CODE", "the resident-record code is not valid")
        unavailable = getattr(exc, "code", None) == "CORE_UNAVAILABLE"
        return ServiceError(
            "CORE_UNAVAILABLE" if unavailable else "CORE_ERROR",
            "the symbol core is unavailable" if unavailable else "the symbol core refused",
        )
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code.isupper() and code.replace("_", "").isalnum():
        fields = _public_fields(exc)
        return ServiceError(code, _safe_message(exc, code.replace("_", " ").lower()), **fields)
    return None


def _public_fields(exc: BaseException) -> dict[str, Any]:
    """Structured fields an error offers its callers (remaining tries, revocation date,
    reason): the error's own `fields()`, or its `cause`'s, made JSON-safe."""
    source: Any = exc
    fields_method = getattr(exc, "fields", None)
    if not callable(fields_method) and getattr(exc, "cause", None) is not None:
        source = exc.cause  # type: ignore[attr-defined]
        fields_method = getattr(source, "fields", None)
    raw: dict[str, Any] = {}
    if callable(fields_method):
        try:
            produced = fields_method()
        except Exception:  # a broken fields() must not turn a clear error into a 500
            produced = {}
        if isinstance(produced, dict):
            raw = produced
    for name in ("remaining", "reason"):
        value = getattr(source, name, None)
        if value is not None and name not in raw:
            raw[name] = value
    return {
        str(key): _json_safe(value)
        for key, value in raw.items()
        if key not in ("code", "message") and value is not None
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _safe_message(exc: Exception, default: str) -> str:
    text = str(exc).strip()
    # Library messages are written for callers; still keep them short and one-line.
    if not text or "\n" in text or len(text) > 300:
        return default
    return text


def to_service_error(exc: Exception) -> ServiceError | None:
    if isinstance(exc, ServiceError):
        return exc
    return _card_error(exc) or _jpki_error(exc)


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
