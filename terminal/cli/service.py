"""`mynaterm serve`: the local service. (`mynaterm demo`, everything on embedded
defaults, is in the dev wing: terminal.dev.cli.demo.)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli.output import JsonOption, console, emit, fail

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on.")]
PortOption = Annotated[int | None, typer.Option("--port", help="TCP port.", min=0, max=65535)]


def _settings(as_json: bool, config: Path | None, **overrides: Any) -> Any:
    from pydantic import ValidationError

    from terminal.service.settings import InsecureSettingsError, load_settings

    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(str(error.get("msg", "")) for error in exc.errors())
        fail(f"invalid settings: {problems}", code="SETTINGS", as_json=as_json)
    except (InsecureSettingsError, OSError, ValueError) as exc:
        fail(f"invalid settings: {exc}", code="SETTINGS", as_json=as_json)


def run_uvicorn(app: Any, settings: Any, port: int | None = None) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        ssl_certfile=str(settings.tls_certfile) if settings.tls_certfile else None,
        ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
    from terminal.service.accesslog import install_access_log_filter

    install_access_log_filter()  # after uvicorn configured its loggers
    uvicorn.Server(config).run()


def serve(
    host: HostOption = None,
    port: PortOption = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Dev mode: generated secret, relaxed checks.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML or JSON).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the counter/kiosk service (default 127.0.0.1:8700). Settings come from
    MYNATERM_* variables and --config; outside --dev insecure settings are refused."""
    from terminal.service import create_app

    settings = _settings(as_json, config, host=host, port=port, dev=True if dev else None)
    extensions: list[Any] = []
    from terminal.dev.wing import needed_by

    if needed_by(settings):  # --dev: software readers, the local test PKI, dev core
        from terminal.dev.wing import DevWing

        extensions.append(DevWing())
    app = create_app(settings, extensions=extensions)
    scheme = "https" if settings.tls else "http"
    emit(
        {"url": f"{scheme}://{settings.host}:{settings.port}/", "dev": settings.dev},
        as_json,
        lambda: console.print(
            f"mynaterm service on [bold]{scheme}://{settings.host}:{settings.port}/[/]"
            + (" (dev mode)" if settings.dev else "")
        ),
    )
    run_uvicorn(app, settings)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
