"""Typed errors of the symbol core; `code` is stable and is what the HTTP API returns."""

from __future__ import annotations


class CoreError(Exception):
    code = "CORE_ERROR"
    http_status = 400


class CoreConfigError(CoreError):
    """Missing or malformed configuration (no master key, bad agencies file)."""

    code = "CORE_CONFIG"
    http_status = 500


class BadRequest(CoreError):
    code = "INVALID_REQUEST"
    http_status = 422


class InvalidResidentCode(CoreError):
    code = "INVALID_RESIDENT_CODE"
    http_status = 422


class BadResidentCodeCheckDigit(InvalidResidentCode):
    """11 digits whose check digit is wrong: a mistyped code, never looked up."""

    code = "RESIDENT_CODE_CHECK_DIGIT"
    http_status = 422


class UnknownResident(CoreError):
    """A well-formed code that is not on the resident register: no symbols for it."""

    code = "UNKNOWN_RESIDENT"
    http_status = 404


class RelayRefused(CoreError):
    """The other agency could not be reached, or its answer was not passed on."""

    code = "RELAY_REFUSED"
    http_status = 502


class UnknownAgency(CoreError):
    code = "UNKNOWN_AGENCY"
    http_status = 404


class UnknownSymbol(CoreError):
    """The core never issued this symbol for that agency."""

    code = "UNKNOWN_SYMBOL"
    http_status = 404


class Unauthenticated(CoreError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(CoreError):
    """The caller asked with a symbol that is not its own agency's."""

    code = "FORBIDDEN"
    http_status = 403
