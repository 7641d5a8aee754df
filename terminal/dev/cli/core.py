"""`mynaterm core serve`: the simulated symbol core (stands in for the national core
system) over HTTP. Dev wing: the product talks to a real core through CoreClient."""

from __future__ import annotations

from typing import Annotated

import typer

from terminal.cli.output import JsonOption, console, emit, fail

core_app = typer.Typer(
    help="Symbol core (stands in for the national core system).", no_args_is_help=True
)


@core_app.command("serve")
def core_serve(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1.")] = 8766,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="Generate and keep a random master key and dev agency tokens under "
            "MYNATERM_HOME/core (0600). Without it the key must be configured.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Serve the symbol core over HTTP on 127.0.0.1 until interrupted."""
    import uvicorn

    from simulators.core import CoreError, SymbolCore
    from simulators.core.app import create_core_app

    try:
        core = SymbolCore.from_environment(dev=dev)
    except CoreError as exc:
        fail(str(exc), code=exc.code, as_json=as_json)
    url = f"http://127.0.0.1:{port}"
    codes = [a.code for a in core.agencies()]
    info = {"url": url, "agencies": codes, "dev": dev}
    emit(
        info,
        as_json,
        lambda: console.print(f"symbol core on [bold]{url}[/] (agencies: {', '.join(codes)})"),
    )
    try:
        uvicorn.run(create_core_app(core), host="127.0.0.1", port=port, log_level="warning")
    finally:
        core.close()


def register(app: typer.Typer) -> None:
    app.add_typer(core_app, name="core")
