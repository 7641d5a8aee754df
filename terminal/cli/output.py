"""Output for humans (rich) and scripts (--json), and one way to fail."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

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
        err_console.print(f"[bold red]error[/]: {message}", highlight=False)
    raise typer.Exit(exit_code(code))
