"""One place that turns errors into the CLI's clear messages and exit codes, from the
same error table as the service (terminal.codes): every command runs its body in
`cli_errors`, and `fail` exits with the table's number for the code."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from terminal.cli.output import fail
from terminal.codes import describe

log = logging.getLogger("mynaterm.cli")


@contextmanager
def cli_errors(as_json: bool) -> Iterator[None]:
    """Run a command body; an error that carries a code of the table becomes a one-line
    message (or JSON) and the code's exit number, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except typer.BadParameter as exc:
        fail(str(exc), code="USAGE", as_json=as_json)
    except Exception as exc:
        failure = describe(exc)
        if failure is None:
            if isinstance(exc, ValueError | OSError):
                fail(str(exc) or type(exc).__name__, code="ERROR", as_json=as_json)
            raise
        message = failure.message
        if failure.code == "PIN_INCORRECT" and "remaining" in failure.fields:
            message += f" ({failure.fields['remaining']} tries left)"
        if failure.code == "PKI_STATE":
            message += " (create one with `mynaterm pki init`)"
        log.debug("%s: %s", failure.code, exc)
        fail(message, code=failure.code, as_json=as_json, **failure.fields)
