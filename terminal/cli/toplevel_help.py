"""`mynaterm --help` without importing any command module: the top-level help is
rendered once from the real CLI into toplevel_help.txt (80 columns) and printed from
there. tests/terminal/test_cli_imports.py fails when the file differs from what the CLI
renders; regenerate it with `python -m terminal.cli.toplevel_help`.

Only the exact invocation `mynaterm --help` takes this path; every other one (a
command's own --help included) goes through typer as usual."""

from __future__ import annotations

import sys
from pathlib import Path

HELP_FILE = Path(__file__).with_name("toplevel_help.txt")
WIDTH = 80


def render() -> str:
    """What the CLI itself prints for `mynaterm --help` at 80 columns."""
    from typer.testing import CliRunner

    from terminal.cli.main import app

    result = CliRunner().invoke(app, ["--help"], terminal_width=WIDTH, prog_name="mynaterm")
    if result.exit_code != 0:
        raise RuntimeError(f"--help failed: {result.output}")
    return result.stdout


def print_if_toplevel_help(argv: list[str]) -> bool:
    """Print the pre-rendered help for `mynaterm --help`; False for anything else."""
    if argv != ["--help"]:
        return False
    try:
        text = HELP_FILE.read_text(encoding="utf-8")
    except OSError:
        return False  # not shipped: the CLI renders it itself
    sys.stdout.write(text)
    return True


def entry() -> None:
    """The `mynaterm` script (pyproject [project.scripts]) and `python -m terminal.cli`:
    the top-level --help from the file, everything else through the full CLI."""
    if print_if_toplevel_help(sys.argv[1:]):
        return
    from terminal.cli.main import app

    app(prog_name="mynaterm")


if __name__ == "__main__":
    HELP_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {HELP_FILE}")
