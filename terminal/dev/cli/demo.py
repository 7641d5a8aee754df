"""`mynaterm demo`: everything on embedded defaults (software cards, test PKI, symbol
core, the service) in one process. Dev wing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from terminal.cli.output import JsonOption, console, emit, fail
from terminal.cli.service import PortOption, run_uvicorn


def demo(
    port: PortOption = 8700,
    home: Annotated[
        Path | None, typer.Option("--home", help="State directory (default: mynaterm home).")
    ] = None,
    readers: Annotated[int, typer.Option("--readers", min=1, max=16)] = 3,
    as_json: JsonOption = False,
) -> None:
    """Start everything on embedded defaults and print the URLs and the demo operator
    credentials (generated now, shown once)."""
    from terminal.dev.demo import DemoError, build_demo

    try:
        demo_setup = build_demo(home=home, port=port or 8700, readers=readers)
    except DemoError as exc:
        fail(str(exc), code="DEMO", as_json=as_json)
    try:
        emit(demo_setup.announcement(), as_json, lambda: demo_setup.print(console))
        sys.stdout.flush()  # the URLs must show before the server blocks
        run_uvicorn(demo_setup.app, demo_setup.settings, port=demo_setup.port)
    finally:
        demo_setup.close()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
