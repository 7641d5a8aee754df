"""`mynaterm pcsc-stack up|down|status` and `mynaterm emulator serve`: pcscd with vpcd
virtual readers for development, and software cards plugged into them. Dev wing."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from card.errors import PcscUnavailableError
from terminal.cli.output import JsonOption, console, emit, fail
from terminal.home import mynaterm_home

# --- pcsc-stack ----------------------------------------------------------------------------

stack_app = typer.Typer(
    help="Run pcscd with vpcd virtual readers for development (one pcscd per machine).",
    no_args_is_help=True,
)


def _stack_dir() -> Path:
    return mynaterm_home() / "pcsc"


@stack_app.command("up")
def stack_up(
    entries: Annotated[
        int, typer.Option("--entries", min=1, max=8, help="vpcd entries; each gives 2 readers.")
    ] = 1,
    install: Annotated[
        bool, typer.Option("--install", help="apt-get install missing packages.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start pcscd with vpcd readers (ports 35963 upwards); it keeps running."""
    from simulators.pcsc_stack import PcscStackError, start_background

    workdir = _stack_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        stack = start_background(workdir, entries=entries, install=install)
    except PcscStackError as exc:
        fail(str(exc), code="PCSC_STACK", as_json=as_json)
    payload = {
        "pid": stack.pid,
        "log": str(stack.log_path),
        "readers": [{"name": r.name, "port": r.port} for r in stack.readers],
    }

    def human() -> None:
        console.print(f"[green]pcscd running[/] (pid {stack.pid}), log {stack.log_path}")
        for reader in stack.readers:
            console.print(f"  {reader.name}: card port 127.0.0.1:{reader.port}")
        console.print("plug a card: mynaterm emulator serve --card FILE")

    emit(payload, as_json, human)


@stack_app.command("down")
def stack_down(as_json: JsonOption = False) -> None:
    """Stop the pcscd started by `pcsc-stack up`."""
    from simulators.pcsc_stack import PcscStackError, stop_background

    try:
        pid = stop_background(_stack_dir())
    except PcscStackError as exc:
        fail(str(exc), code="PCSC_STACK", as_json=as_json)
    emit({"stopped": pid}, as_json, lambda: console.print(f"stopped pcscd (pid {pid})"))


@stack_app.command("status")
def stack_status(as_json: JsonOption = False) -> None:
    """Is pcscd running, was it started here, which readers does it have."""
    from simulators.pcsc_stack import background_state, missing_packages, running_pcscd_pid

    pid = running_pcscd_pid()
    state = background_state(_stack_dir())
    payload: dict[str, Any] = {
        "running": pid is not None,
        "pid": pid,
        "started_by_pcsc_stack_up": state is not None and state.get("pid") == pid,
        "missing_packages": missing_packages(),
        "readers": [],
    }
    if pid is not None:
        from card.pcsc import list_readers

        try:
            payload["readers"] = [
                {"name": r.name, "card_present": r.card_present} for r in list_readers()
            ]
        except PcscUnavailableError as exc:
            payload["error"] = str(exc)

    def human() -> None:
        if pid is None:
            console.print("pcscd is not running (start: mynaterm pcsc-stack up)")
        else:
            origin = "pcsc-stack up" if payload["started_by_pcsc_stack_up"] else "elsewhere"
            console.print(f"pcscd running, pid {pid} (started {origin})")
            for reader in payload["readers"]:
                card = "card" if reader["card_present"] else "empty"
                console.print(f"  {reader['name']}: {card}")
        if payload["missing_packages"]:
            console.print(f"[yellow]missing packages[/]: {payload['missing_packages']}")

    emit(payload, as_json, human)


# --- emulator serve ------------------------------------------------------------------------


def serve(
    cards: Annotated[
        list[Path],
        typer.Option("--card", help="Software card file; repeat for more readers (next ports)."),
    ],
    port: Annotated[int, typer.Option("--port", help="vpcd port of the first card.")] = 35963,
    host: Annotated[str, typer.Option("--host", help="vpcd host.")] = "127.0.0.1",
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0,
            help="Pull the cards after this many seconds [default: Ctrl-C].",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Plug software cards into vpcd readers (pcscd must run: `mynaterm pcsc-stack up`)
    until Ctrl-C; each card's state (PIN counters) is saved back to its file at exit."""
    import signal

    from simulators.card import CardStateError, SoftwareCard
    from simulators.vpcd import BridgeError, VpcdBridge

    loaded: list[tuple[Path, SoftwareCard]] = []
    for path in cards:
        try:
            loaded.append((path, SoftwareCard.load(path)))
        except (CardStateError, OSError, LookupError, ValueError) as exc:
            fail(f"{path}: {exc}", code="CARD_FILE", as_json=as_json)
    bridges = [VpcdBridge(card, host, port + i) for i, (_, card) in enumerate(loaded)]
    try:
        for bridge in bridges:
            bridge.insert(timeout=2.0)
    except BridgeError as exc:
        for bridge in bridges:
            bridge.remove()
        fail(
            str(exc),
            code="PCSC_UNAVAILABLE",
            as_json=as_json,
        )
    plugged = [
        {"card": str(path), "port": bridge.port}
        for (path, _), bridge in zip(loaded, bridges, strict=True)
    ]
    if as_json:
        sys.stdout.write(json.dumps({"serving": plugged}) + "\n")
    else:
        for entry in plugged:
            console.print(f"serving {entry['card']} on vpcd port {entry['port']}")
        console.print("Ctrl-C pulls the cards and saves their state")
    sys.stdout.flush()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        _wait(timeout, bridges)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for bridge in bridges:
            bridge.remove()
        for path, card in loaded:
            card.save(path)
    saved = [str(p) for p, _ in loaded]
    apdus = [bridge.apdu_count for bridge in bridges]
    emit(
        {"saved": saved, "apdus": apdus},
        as_json,
        lambda: console.print(
            f"pulled the cards; saved {', '.join(saved)} ({sum(apdus)} APDUs served)"
        ),
    )


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _wait(timeout: float | None, bridges: list[Any]) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic())))
        if not any(bridge.inserted for bridge in bridges):
            # pcscd stopped (vpcd closed every socket): nothing left to serve.
            return


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="pcsc-stack")
    from terminal.dev.cli.emulator import emulator_app

    emulator_app.command("serve")(serve)
