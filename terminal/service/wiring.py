"""Builds the service's parts from its settings: readers first, then the lower layers
(validation, challenges, linkage registry, audit) as far as they are configured."""

from __future__ import annotations

import logging
import threading

from terminal.service.context import ServiceContext

log = logging.getLogger("mynaterm.service")

SOFTWARE_READER_NAME = "Software Reader {index}"


def build_from_settings(ctx: ServiceContext) -> None:
    settings = ctx.settings
    for index in range(settings.software_readers):
        name = SOFTWARE_READER_NAME.format(index=index)
        if ctx.readers.by_name(name) is None:
            ctx.readers.add_software_reader(name)
    if settings.pcsc:
        _add_pcsc_readers(ctx)


def _add_pcsc_readers(ctx: ServiceContext) -> None:
    """Follow pcscd with a ReaderMonitor in a daemon thread: readers come and go, card
    presence updates the pages. The monitor reconnects by itself when pcscd restarts."""
    from card.monitor import EventKind, ReaderEvent, ReaderMonitor
    from terminal.service.readers import PcscSlot

    monitor = ReaderMonitor()
    manager = ctx.readers

    def on_event(event: ReaderEvent) -> None:
        name = event.reader
        if name is None:
            return
        reader = manager.by_name(name)
        if event.kind is EventKind.READER_ATTACHED and reader is None:
            manager.add(name, PcscSlot(name))
        elif event.kind is EventKind.READER_DETACHED and reader is not None:
            manager.remove_reader(reader.id)
        elif event.kind in (EventKind.CARD_INSERTED, EventKind.CARD_REMOVED) and reader:
            manager.set_presence(reader.id, event.kind is EventKind.CARD_INSERTED)

    def run() -> None:
        try:
            monitor.watch(on_event)
        except Exception as exc:  # the service keeps serving software readers
            log.warning("PC/SC monitor stopped: %s", type(exc).__name__)

    thread = threading.Thread(target=run, name="pcsc-monitor", daemon=True)
    thread.start()
    ctx.closers.append(monitor.close)
