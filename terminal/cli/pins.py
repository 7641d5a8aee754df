"""Reading PINs for the CLI: a no-echo prompt, MYNATERM_PIN / MYNATERM_NEW_PIN for
scripts, or stdin with --pin-stdin. Never from argv (it shows in `ps` and history)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

PinStdinOption = Annotated[
    bool,
    typer.Option("--pin-stdin", help="Read the PIN (then the new PIN) from standard input."),
]

_stdin_lines: list[str] = []
# The stream the lines came from: a new one (another invocation in the same process, as
# in tests) starts afresh instead of handing out a previous command's leftover lines.
_stdin_source: list[object] = []


def _stdin_line() -> str:
    if _stdin_source != [sys.stdin]:
        _stdin_source[:] = [sys.stdin]
        _stdin_lines.clear()
        _stdin_lines.extend(line.rstrip("\r\n") for line in sys.stdin.read().splitlines())
        _stdin_lines.reverse()
    if not _stdin_lines:
        raise typer.BadParameter("standard input has no PIN line")
    return _stdin_lines.pop()


def read_pin(label: str, *, pin_stdin: bool, new: bool = False, variable: str | None = None) -> str:
    """The PIN for `label`; never echoed, never logged. `variable` names the environment
    variable to take it from (commands that need several PINs give one per PIN)."""
    if pin_stdin:
        return _stdin_line()
    variable = variable or ("MYNATERM_NEW_PIN" if new else "MYNATERM_PIN")
    from_env = os.environ.get(variable)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise typer.BadParameter(f"no PIN: set {variable}, use --pin-stdin, or run in a terminal")
    prompt = f"New {label} PIN" if new else f"{label} PIN"
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=new)
    return value
