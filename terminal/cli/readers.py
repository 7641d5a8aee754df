"""`mynaterm readers` and `watch`: real PC/SC readers and their events. (`pcsc-stack`
and `emulator serve`, for vpcd virtual readers, are in the dev wing:
terminal.dev.cli.pcsc_stack.)"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer

from card.errors import (
    CardError,
)
from terminal.cli.errors import cli_errors
from terminal.cli.output import JsonOption, console, emit

# --- readers -------------------------------------------------------------------------------


def identify(reader: str) -> bool | None:
    """Is the card in `reader` a My Number card? None when it must not or cannot be
    asked: another program uses the card (our SELECT would end its PIN-verified state),
    or the card went away meanwhile."""
    from card.monitor import is_mynumber_card
    from card.pcsc import list_readers, open_reader

    try:
        info = next((i for i in list_readers() if i.name == reader), None)
        if info is None or not info.card_present or info.exclusive or info.in_use:
            return None
        with open_reader(reader, shared=True) as connection:
            return is_mynumber_card(connection)
    except CardError:
        return None


def readers_payload() -> list[dict[str, Any]]:
    from card.pcsc import list_readers

    entries = []
    for index, info in enumerate(list_readers()):
        entries.append(
            {
                "index": index,
                "name": info.name,
                "card_present": info.card_present,
                "atr": info.atr.hex().upper() if info.atr else None,
                "in_use": info.exclusive or info.in_use,
                "is_mynumber_card": identify(info.name) if info.card_present else None,
            }
        )
    return entries


def readers(as_json: JsonOption = False) -> None:
    """List PC/SC readers: card present, ATR, and whether it is a My Number card
    (asked by selecting the JPKI applet, never guessed from the ATR)."""
    from rich.table import Table

    with cli_errors(as_json):
        entries = readers_payload()

    def human() -> None:
        if not entries:
            console.print("no PC/SC readers attached")
            return
        table = Table("#", "reader", "card", "ATR", "My Number card")
        in_use = {True: "in use", False: "present"}
        for entry in entries:
            mynumber = {True: "yes", False: "no", None: "-"}[entry["is_mynumber_card"]]
            table.add_row(
                str(entry["index"]),
                entry["name"],
                in_use[entry["in_use"]] if entry["card_present"] else "empty",
                entry["atr"] or "",
                mynumber,
            )
        console.print(table)

    emit({"readers": entries}, as_json, human)


# --- watch ---------------------------------------------------------------------------------


def watch(
    as_json: JsonOption = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0, help="Stop after this many seconds [default: until Ctrl-C]."
        ),
    ] = None,
    identify_cards: Annotated[
        bool,
        typer.Option(
            "--identify/--no-identify",
            help="Select the JPKI applet of each inserted card to tell a My Number card.",
        ),
    ] = True,
) -> None:
    """Print reader and card events as they happen (first what is already there). With
    --json: one JSON object per line."""
    with cli_errors(as_json):
        from card.monitor import EventKind, ReaderMonitor  # needs pyscard: inside

        monitor = ReaderMonitor()
    with cli_errors(as_json), monitor:
        try:
            for event in monitor.events(timeout):
                payload = event.to_dict()
                inserted = event.kind is EventKind.CARD_INSERTED
                if inserted and identify_cards and event.reader is not None:
                    payload["is_mynumber_card"] = identify(event.reader)
                if as_json:
                    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                else:
                    _print_event(payload)
        except KeyboardInterrupt:
            pass


def _print_event(payload: dict[str, Any]) -> None:
    stamp = time.strftime("%H:%M:%S", time.localtime(float(payload["at"])))
    text = f"{stamp} {payload['event']}"
    if payload["reader"]:
        text += f"  {payload['reader']}"
    if payload.get("atr"):
        text += f"  ATR {payload['atr']}"
    if "is_mynumber_card" in payload:
        text += {True: "  (My Number card)", False: "  (not a My Number card)", None: ""}[
            payload["is_mynumber_card"]
        ]
    console.print(text, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("readers")(readers)
    app.command("watch")(watch)
