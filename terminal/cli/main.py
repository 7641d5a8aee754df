"""Entry point of `mynaterm`. Each area registers its commands from its own module.

The areas are imported lazily: `mynaterm cert read` imports only the module that owns
`cert` (benchmarks/bench_cli_startup.py: building all ~45 commands, and importing their
modules, cost more than the card read itself). COMMANDS names which module registers
each top-level command and group; tests/terminal/test_cli_imports.py fails when it
differs from what the modules register."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from terminal.cli.coercion import use_plain_conversion
from terminal.cli.context import CliState

# Modules that add commands to an app through a `register(app)` function. Each area of
# the product owns one module, so they grow independently.
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

_EMULATOR = ("terminal.dev.cli.emulator", "terminal.dev.cli.pcsc_stack")

# Top-level name -> the modules to register before it is complete (the first one owns
# it; `emulator serve` is added to the emulator group by the pcsc-stack module). In the
# order of `mynaterm --help`: typer lists the commands, then the groups, each in the
# order COMMAND_MODULES registers them.
COMMANDS: dict[str, tuple[str, ...]] = {
    "info": ("terminal.cli.card_cmds",),
    "readers": ("terminal.cli.readers",),
    "watch": ("terminal.cli.readers",),
    "sign": ("terminal.cli.signing",),
    "verify": ("terminal.cli.signing",),
    "sign-pdf": ("terminal.cli.signing",),
    "verify-pdf": ("terminal.cli.signing",),
    "revoke": ("terminal.cli.linkage",),
    "issue": ("terminal.cli.flows_cmds",),
    "renew": ("terminal.cli.flows_cmds",),
    "login": ("terminal.cli.flows_cmds",),
    "set-pins": ("terminal.cli.cardlife_cmds",),
    "reset-pin": ("terminal.cli.cardlife_cmds",),
    "renew-on-card": ("terminal.cli.cardlife_cmds",),
    "reconcile-card": ("terminal.cli.cardlife_cmds",),
    "serve": ("terminal.cli.service",),
    "demo": ("terminal.dev.cli.demo",),
    "verify-cert": ("terminal.cli.validation_cmds",),
    "card-info": ("terminal.cli.surface",),
    "common": ("terminal.cli.surface",),
    "emulator": _EMULATOR,
    "cert": ("terminal.cli.card_cmds",),
    "pin": ("terminal.cli.card_cmds",),
    "pkey": ("terminal.cli.card_cmds",),
    "pcsc-stack": ("terminal.dev.cli.pcsc_stack",),
    "pki": ("terminal.dev.cli.pki",),
    "auth": ("terminal.cli.signing",),
    "audit": ("terminal.cli.linkage",),
    "link": ("terminal.cli.linkage",),
    "core": ("terminal.dev.cli.core",),
    "operator": ("terminal.cli.operators",),
    "crl": ("terminal.cli.validation_cmds",),
    "surface": ("terminal.cli.surface",),
}

HELP = "Individual Number Card (マイナンバーカード) counter and kiosk terminal."
# Plain help text: rich's help renderer costs more start-up time than the card commands
# themselves (benchmarks/bench_cli_startup.py).
RICH_MARKUP_MODE = None

# One registration per module and process (a register() may add to another module's
# group, which must happen once), and the commands built from it.
_AREAS: dict[str, typer.Typer] = {}
_BUILT: dict[str, TyperGroup] = {}


def area_app(module_name: str) -> typer.Typer:
    """A Typer holding what `module_name` registers (imported on first use)."""
    if module_name not in _AREAS:
        area = typer.Typer(rich_markup_mode=RICH_MARKUP_MODE, pretty_exceptions_enable=False)
        importlib.import_module(module_name).register(area)
        _AREAS[module_name] = area
    return _AREAS[module_name]


def load_command(name: str) -> Any:
    """The click command or group `name`, built from the modules that register it."""
    modules = COMMANDS[name]
    for module_name in modules:
        area_app(module_name)
    owner = modules[0]
    if owner not in _BUILT:
        group = typer.main.get_group(_AREAS[owner])
        use_plain_conversion(group)
        _BUILT[owner] = group
    return _BUILT[owner].commands[name]


class _LazyCommands(MutableMapping[str, Any]):
    """The root group's commands: the names are known up front, a command is built (and
    its module imported) when it is looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}
        self._names = list(COMMANDS)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._names:
            self._names.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class LazyGroup(TyperGroup):
    """The root `mynaterm` group, with its commands in a _LazyCommands."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        registered = dict(self.commands)
        self.commands = _LazyCommands()
        self.commands.update(registered)
        use_plain_conversion(self, subcommands=False)  # the lazy ones convert when built

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names only: listing builds nothing


app = typer.Typer(
    name="mynaterm",
    help=HELP,
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=RICH_MARKUP_MODE,
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


def run() -> None:
    app()
