"""Entry point of `mynaterm`. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from terminal.cli.context import CliState

app = typer.Typer(
    name="mynaterm",
    help="Individual Number Card (マイナンバーカード) counter and kiosk terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help text: rich's help renderer costs more start-up time than the card
    # commands themselves (benchmarks/bench_cli_startup.py).
    rich_markup_mode=None,
)

# Modules that add commands to `app` through a `register(app)` function. Each area of the
# product owns one module, so they grow independently.
# The dev wing's groups (terminal.dev.cli: software card, test PKI, vpcd, symbol core,
# demo) are registered here too: the CLI is where product and dev wing meet.
COMMAND_MODULES = (
    "terminal.dev.cli.emulator",
    "terminal.cli.card_cmds",
    "terminal.cli.readers",
    "terminal.dev.cli.pcsc_stack",
    "terminal.dev.cli.pki",
    "terminal.cli.signing",
    "terminal.cli.linkage",
    "terminal.dev.cli.core",
    "terminal.cli.flows_cmds",
    "terminal.cli.cardlife_cmds",
    "terminal.cli.service",
    "terminal.cli.operators",
    "terminal.dev.cli.demo",
    "terminal.cli.validation_cmds",
    "terminal.cli.surface",
)


@app.callback()
def main(
    ctx: typer.Context,
    card: Annotated[
        Path | None,
        typer.Option("--card", help="Use this software card state file, in process."),
    ] = None,
    reader: Annotated[
        str | None,
        typer.Option("--reader", help="Use the PC/SC reader with this name (or index)."),
    ] = None,
    hex_serials: Annotated[
        bool,
        typer.Option("--hex-serials", help="Print certificate serials in hex (default decimal)."),
    ] = False,
) -> None:
    from terminal.cli.output import show_serials_in_hex

    show_serials_in_hex(hex_serials)
    ctx.obj = CliState(card_path=card, reader=reader)


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # an area not built yet registers nothing
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def run() -> None:
    app()
