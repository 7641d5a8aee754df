"""The reader manager: every reader the service drives, their card state, a lock per
reader that serialises card I/O, and the event hub that pushes changes to pages (SSE).

A second client on a busy reader is refused at once with READER_BUSY: a kiosk must never
sit waiting behind another session's PIN entry, and nothing waits forever."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from card.connection import Connection
from card.errors import CardRemovedError
from card.protocol import CardChannel
from jpki.applet import end_verified_state
from terminal.service.errors import ServiceError, to_service_error

log = logging.getLogger("mynaterm.service.readers")


class CardSlot(Protocol):
    """One reader's way to reach its card."""

    kind: str

    def card_present(self) -> bool | None:
        """True/False, or None when the reader cannot tell without talking to it."""

    def connect(self) -> Connection:
        """A connection to the present card; raises NoCardError when there is none."""

    def disconnect(self, connection: Connection) -> None: ...


@runtime_checkable
class CardHolderSlot(CardSlot, Protocol):
    """A slot that holds a card object put in by software (the dev wing's software
    readers, terminal.dev.slots.SoftwareSlot): it can be filled and emptied from code."""

    card: Any | None
    label: str | None

    def insert(self, card: Any, label: str | None = None) -> None: ...

    def remove(self) -> None:
        """Pull the card: an operation in flight fails with CardRemovedError."""


class PcscSlot:
    """A PC/SC reader, opened per operation through card.pcsc."""

    kind = "pcsc"

    def __init__(self, reader_name: str) -> None:
        self.reader_name = reader_name
        self.present: bool | None = None  # updated by the reader monitor

    def card_present(self) -> bool | None:
        return self.present

    def connect(self) -> Connection:
        from card.pcsc import open_reader

        return open_reader(self.reader_name)

    def disconnect(self, connection: Connection) -> None:
        close = getattr(connection, "close", None)
        if close is not None:
            close()


@dataclass
class Reader:
    id: str
    name: str
    slot: CardSlot
    lock: threading.Lock = field(default_factory=threading.Lock)
    card_serial: int = 0  # bumps on every insertion so pages can tell a new card
    operation: str | None = None
    step: str | None = None

    @property
    def busy(self) -> bool:
        return self.lock.locked()

    def state(self) -> dict[str, Any]:
        present = self.slot.card_present()
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.slot.kind,
            "card_present": present,
            "card_serial": self.card_serial,
            "busy": self.busy,
            "operation": self.operation,
            "step": self.step,
        }


class EventHub:
    """Fan-out of reader events to SSE subscribers. `publish` may be called from the
    worker threads that do card I/O."""

    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue_size = queue_size
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            event = {"id": next(self._ids), "time": time.time(), **event}
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(event)
        else:
            with contextlib.suppress(RuntimeError):  # loop closing during shutdown
                loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: dict[str, Any] | None) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stalled page loses events rather than stalling the service; it
                # resyncs from the snapshot sent on reconnect.
                log.warning("dropping event for a slow SSE subscriber")

    def close(self) -> None:
        self._deliver(None)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any] | None]]:
        if self._loop is None:
            self.bind(asyncio.get_running_loop())
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)


class ReaderManager:
    def __init__(
        self,
        events: EventHub | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        self.events = events or EventHub()
        # Told (operation, "OK" or error code) after every card session: metrics.
        self.on_outcome = on_outcome
        self._readers: dict[str, Reader] = {}
        self._ids = itertools.count()

    # -- registry ------------------------------------------------------------------

    def add(self, name: str, slot: CardSlot) -> Reader:
        reader = Reader(id=str(next(self._ids)), name=name, slot=slot)
        self._readers[reader.id] = reader
        self._changed(reader, "reader_added")
        return reader

    def remove_reader(self, reader_id: str) -> None:
        reader = self._readers.pop(reader_id, None)
        if reader is not None:
            self.events.publish({"type": "reader_removed", "reader": {"id": reader.id}})

    def all(self) -> list[Reader]:
        return list(self._readers.values())

    def get(self, reader_id: str) -> Reader:
        reader = self._readers.get(reader_id)
        if reader is None:
            raise ServiceError("NO_READER", f"no reader with id {reader_id!r}")
        return reader

    def by_name(self, name: str) -> Reader | None:
        return next((r for r in self._readers.values() if r.name == name), None)

    # -- software cards (slots that hold a card object: the dev wing's) -------------

    def insert_software_card(self, reader_id: str, card: Any, label: str | None = None) -> None:
        reader = self.get(reader_id)
        slot = reader.slot
        if not isinstance(slot, CardHolderSlot):
            raise ServiceError("NOT_AVAILABLE", "only software readers take software cards")
        if slot.card_present():
            slot.remove()
        slot.insert(card, label)
        reader.card_serial += 1
        self._changed(reader, "card_inserted")

    def remove_software_card(self, reader_id: str) -> Any | None:
        reader = self.get(reader_id)
        slot = reader.slot
        if not isinstance(slot, CardHolderSlot):
            raise ServiceError("NOT_AVAILABLE", "only software readers take software cards")
        card = slot.card
        slot.remove()
        self._changed(reader, "card_removed")
        return card

    def set_presence(self, reader_id: str, present: bool) -> None:
        """From the PC/SC monitor: a card came or went."""
        reader = self.get(reader_id)
        if isinstance(reader.slot, PcscSlot):
            reader.slot.present = present
        if present:
            reader.card_serial += 1
        self._changed(reader, "card_inserted" if present else "card_removed")

    # -- card sessions -------------------------------------------------------------

    @contextmanager
    def session(self, reader_id: str, operation: str) -> Iterator[CardSession]:
        """Exclusive use of a reader's card for one operation. Raises READER_BUSY at
        once when another operation holds it, NO_CARD when the slot is empty; card
        errors inside are mapped to service errors."""
        reader = self.get(reader_id)
        if not reader.lock.acquire(blocking=False):
            raise ServiceError(
                "READER_BUSY",
                "the reader is busy with another operation; try again when it is free",
                operation=reader.operation,
            )
        connection: Connection | None = None
        try:
            reader.operation, reader.step = operation, "connecting"
            self._changed(reader, "busy")
            connection = reader.slot.connect()
            yield CardSession(self, reader, CardChannel(connection))
            self._outcome(operation, "OK")
        except ServiceError as exc:
            self._outcome(operation, exc.code)
            raise
        except Exception as exc:
            mapped = to_service_error(exc)
            self._outcome(operation, mapped.code if mapped else "INTERNAL_ERROR")
            if mapped is None:
                raise
            if isinstance(exc, CardRemovedError):
                self._changed(reader, "card_removed")
            raise mapped from exc
        finally:
            if connection is not None:
                # A card left in the reader keeps its verified PINs until power-down:
                # log it out so nothing after this operation inherits them.
                with contextlib.suppress(Exception):
                    end_verified_state(CardChannel(connection))
                with contextlib.suppress(Exception):
                    reader.slot.disconnect(connection)
            reader.operation, reader.step = None, None
            reader.lock.release()
            self._changed(reader, "idle")

    def _outcome(self, operation: str, code: str) -> None:
        if self.on_outcome is not None:
            with contextlib.suppress(Exception):
                self.on_outcome(operation, code)

    def _changed(self, reader: Reader, kind: str) -> None:
        self.events.publish({"type": kind, "reader": reader.state()})


@dataclass
class CardSession:
    """What a route gets inside `ReaderManager.session`: the channel, and a way to tell
    the pages how far the card work has come."""

    manager: ReaderManager
    reader: Reader
    channel: CardChannel

    def progress(self, step: str) -> None:
        self.reader.step = step
        self.manager.events.publish(
            {"type": "progress", "reader": self.reader.state(), "step": step}
        )
