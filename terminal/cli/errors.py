"""One place that turns library errors into the CLI's clear messages and exit codes,
using the same stable codes as the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from card.errors import CardError
from terminal.cli.output import fail

# Exit codes scripts can act on.
EXIT_CODES = {
    "PIN_INCORRECT": 3,
    "PIN_BLOCKED": 4,
    "PIN_FORMAT": 2,
    "CARD_REMOVED": 5,
    "NO_CARD": 5,
    "NO_READER": 5,
    "READER_BUSY": 6,
    "PCSC_UNAVAILABLE": 7,
    "CERT_REVOKED": 10,
    "CERT_EXPIRED": 11,
    "CERT_UNTRUSTED": 12,
    "REVOCATION_UNKNOWN": 13,
}


@contextmanager
def cli_errors(as_json: bool) -> Iterator[None]:
    """Run a command body; known errors become a one-line message (or JSON) and an
    exit code, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except typer.BadParameter as exc:
        fail(str(exc), code="USAGE", as_json=as_json, exit_code=2)
    except Exception as exc:
        from terminal.dev.local import PkiError, PkiStateError  # the local test PKI
        from terminal.service.errors import to_service_error

        if isinstance(exc, PkiError):  # the local test PKI: missing or unusable state
            code = "PKI_STATE" if isinstance(exc, PkiStateError) else "PKI_ERROR"
            fail(str(exc), code=code, as_json=as_json)

        mapped = to_service_error(exc)
        if mapped is None:
            if isinstance(exc, CardError | ValueError | OSError):
                fail(str(exc) or type(exc).__name__, code="ERROR", as_json=as_json)
            raise
        message = mapped.message
        if "remaining" in mapped.fields and mapped.code == "PIN_INCORRECT":
            message += f" ({mapped.fields['remaining']} tries left)"
        fail(
            message,
            code=mapped.code,
            as_json=as_json,
            exit_code=EXIT_CODES.get(mapped.code, 1),
            **mapped.fields,
        )
