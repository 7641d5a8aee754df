"""Reader and card events from pcscd, and telling a My Number card from other cards.

ReaderMonitor waits in SCardGetStatusChange on every reader plus the PnP pseudo reader
(reader attached/detached), so it costs nothing while nothing happens. Waits are cut
into slices of at most `slice_seconds` so that stop() from another thread and a dead
pcscd are noticed promptly; when pcscd goes away the monitor reports it, retries, and
resynchronises (readers attached again, cards inserted) once pcscd is back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from card.connection import Connection
from card.errors import CardError, PcscUnavailableError, TransportError
from card.pcsc import (
    PNP_NOTIFICATION,
    STATE_CHANGED,
    STATE_MUTE,
    STATE_UNAWARE,
    PcscContext,
    ReaderState,
)

# The JPKI applet's AID (jpki.constants.Aid.JPKI; card/ must not import jpki/).
JPKI_AID = bytes.fromhex("D392F000260100000001")
SELECT_JPKI = bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID


def is_mynumber_card(connection: Connection) -> bool:
    """True when the card selects the JPKI applet (9000; 61xx on a T=0 card is also a
    success). Never decided by the ATR: several ATRs exist for the card. Selecting the
    applet ends any PIN-verified state the card had in another applet."""
    _data, sw = connection.transmit(SELECT_JPKI)
    return sw == 0x9000 or sw >> 8 == 0x61


class EventKind(StrEnum):
    READER_ATTACHED = "reader_attached"
    READER_DETACHED = "reader_detached"
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"
    SERVICE_LOST = "service_lost"  # pcscd stopped or crashed; retrying
    SERVICE_RESTORED = "service_restored"


@dataclass(frozen=True)
class ReaderEvent:
    kind: EventKind
    reader: str | None = None
    atr: bytes | None = None
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, object]:
        return {
            "event": self.kind.value,
            "reader": self.reader,
            "atr": self.atr.hex().upper() if self.atr is not None else None,
            "at": self.at,
        }


@dataclass
class _Reader:
    state: int = STATE_UNAWARE
    atr: bytes | None = None  # set while a card is present


class ReaderMonitor:
    """Events as they happen: `for event in monitor.events(timeout=30): ...`.

    The first call reports what is already there (readers attached, cards inserted), so
    a consumer needs no separate snapshot. `events` returns when `timeout` seconds have
    passed (None: never) or `stop()` is called from another thread."""

    def __init__(
        self,
        *,
        slice_seconds: float = 1.0,
        retry_seconds: float = 0.5,
        context_factory: Callable[[], PcscContext] = PcscContext,
    ) -> None:
        self.slice_seconds = slice_seconds
        self.retry_seconds = retry_seconds
        self._context_factory = context_factory
        self._context: PcscContext | None = None
        self._readers: dict[str, _Reader] = {}
        self._pending: deque[ReaderEvent] = deque()
        self._service_lost = False
        self._stop = threading.Event()

    # --- public --------------------------------------------------------------------------

    def events(self, timeout: float | None = None) -> Iterator[ReaderEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._stop.clear()
        while True:
            while self._pending:
                yield self._pending.popleft()
            remaining = self._remaining(deadline)
            if self._stop.is_set() or remaining <= 0:
                return
            if self._context is None and not self._connect():
                self._stop.wait(min(self.retry_seconds, remaining))
                continue
            self._wait(min(self.slice_seconds, remaining))

    def watch(self, callback: Callable[[ReaderEvent], None], timeout: float | None = None) -> None:
        """Call `callback` for each event until timeout or stop()."""
        for event in self.events(timeout):
            callback(event)

    def stop(self) -> None:
        """End events() soon; safe from any thread."""
        self._stop.set()
        context = self._context
        if context is not None:
            # If cancel fails the waiter still notices the stop flag within one slice.
            with contextlib.suppress(Exception):
                context.cancel()

    def close(self) -> None:
        self.stop()
        self._drop_context()

    def snapshot(self) -> dict[str, bytes | None]:
        """Readers known right now and the ATR of the card in each (None: empty)."""
        return {name: reader.atr for name, reader in self._readers.items()}

    def __enter__(self) -> ReaderMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------

    @staticmethod
    def _remaining(deadline: float | None) -> float:
        return float("inf") if deadline is None else deadline - time.monotonic()

    def _connect(self) -> bool:
        try:
            context = self._context_factory()
            names = context.readers()
        except PcscUnavailableError:
            self._lose_service()
            return False
        self._context = context
        if self._service_lost:
            self._service_lost = False
            self._emit(EventKind.SERVICE_RESTORED)
        self._sync_readers(names)
        return True

    def _lose_service(self) -> None:
        self._drop_context()
        for name in list(self._readers):
            self._detach(name)
        if not self._service_lost:
            self._service_lost = True
            self._emit(EventKind.SERVICE_LOST)

    def _drop_context(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            # A context of a dead pcscd cannot be released cleanly; it is gone anyway.
            with contextlib.suppress(Exception):
                context.release()

    def _sync_readers(self, names: list[str]) -> None:
        for name in list(self._readers):
            if name not in names:
                self._detach(name)
        for name in names:
            if name not in self._readers:
                self._readers[name] = _Reader()
                self._emit(EventKind.READER_ATTACHED, name)

    def _detach(self, name: str) -> None:
        reader = self._readers.pop(name)
        if reader.atr is not None:
            self._emit(EventKind.CARD_REMOVED, name)
        self._emit(EventKind.READER_DETACHED, name)

    def _wait(self, seconds: float) -> None:
        assert self._context is not None
        states = [(name, reader.state) for name, reader in self._readers.items()]
        # The PnP pseudo reader changes when the number of readers differs from the
        # count given in the high 16 bits of its current state.
        states.append((PNP_NOTIFICATION, len(self._readers) << 16))
        try:
            result = self._context.status_change(states, seconds)
        except (PcscUnavailableError, TransportError):
            # pcscd went away (or our context died with it): start over.
            self._lose_service_or_reconnect()
            return
        if result is None:
            return
        relist = False
        for state in result:
            if state.name == PNP_NOTIFICATION:
                relist = relist or bool(state.state & STATE_CHANGED)
            elif state.gone:
                relist = True
            elif state.name in self._readers:
                self._update(state)
        if relist:
            try:
                names = self._context.readers()
            except CardError:
                self._lose_service_or_reconnect()
                return
            self._sync_readers(names)

    def _lose_service_or_reconnect(self) -> None:
        self._drop_context()
        if not self._connect():
            return
        # pcscd answered again at once (e.g. our context was invalidated): readers that
        # survived keep their state, the next wait reports differences.

    def _update(self, state: ReaderState) -> None:
        reader = self._readers[state.name]
        reader.state = state.state & ~STATE_CHANGED
        present = state.present and not state.state & STATE_MUTE
        if present and reader.atr is None:
            reader.atr = state.atr
            self._emit(EventKind.CARD_INSERTED, state.name, state.atr)
        elif not present and reader.atr is not None:
            reader.atr = None
            self._emit(EventKind.CARD_REMOVED, state.name)
        elif present and reader.atr is not None and state.atr != reader.atr:
            # Swapped within one poll: report the removal and the new card.
            self._emit(EventKind.CARD_REMOVED, state.name)
            reader.atr = state.atr
            self._emit(EventKind.CARD_INSERTED, state.name, state.atr)

    def _emit(self, kind: EventKind, reader: str | None = None, atr: bytes | None = None) -> None:
        self._pending.append(ReaderEvent(kind, reader, atr))
