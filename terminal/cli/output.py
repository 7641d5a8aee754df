"""Output for humans (rich) and scripts (--json), and one way to fail."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A rich Console made on first use: importing rich costs start-up time that
    `--help` and --json output never need."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


console: Any = _LazyConsole()
err_console: Any = _LazyConsole(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


# Serials in text output: decimal (as certificates and the registry count them), or hex
# with the global --hex-serials. JSON always gives the decimal string (and may add hex).
_serial_hex = False


def show_serials_in_hex(enabled: bool) -> None:
    global _serial_hex
    _serial_hex = enabled


def serial_text(serial: int | str) -> str:
    """A certificate serial for people: decimal, or 0x-hex under --hex-serials."""
    number = int(serial)
    return f"{number:#x}" if _serial_hex else str(number)


def emit(payload: Any, as_json: bool, human: Callable[[], None] | None = None) -> None:
    """Print `payload` as JSON, or call `human` to render it for a person."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        human()


def fail(message: str, *, code: str = "ERROR", as_json: bool = False, **fields: Any) -> NoReturn:
    """Report an error (JSON on stdout with --json, red text on stderr otherwise) and exit
    with the code's number from the error table (terminal.codes)."""
    from terminal.codes import exit_code

    if as_json:
        sys.stdout.write(
            json.dumps(
                {"error": {"code": code, "message": message, **fields}},
                ensure_ascii=False,
                default=str,
            )
            + "\n"
        )
    else:
        from rich.markup import escape  # a message may hold [brackets]: not markup

        err_console.print(f"[bold red]error[/]: {escape(message)}", highlight=False)
    raise typer.Exit(exit_code(code))


@contextmanager
def library_logs_at_debug(*names: str) -> Iterator[list[str]]:
    """Keep the named libraries' log records (pyHanko logs a traceback for every refused
    certificate) off stderr: they go to the `mynaterm.cli` logger at DEBUG, and the
    yielded list collects the one-line text of each warning or error, for a summary."""
    import logging

    target = logging.getLogger("mynaterm.cli")
    collected: list[str] = []

    class _ToDebug(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage().strip().splitlines()
            if record.levelno >= logging.WARNING and text:
                collected.append(text[0][:200])
            target.debug("%s: %s", record.name, record.getMessage(), exc_info=record.exc_info)

    handler = _ToDebug()
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield collected
    finally:
        for logger, propagate in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.propagate = propagate
