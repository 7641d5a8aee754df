"""ReaderMonitor against the real pcscd: attach/insert/remove events, pcscd going away
and coming back; is_mynumber_card by SELECT."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from card.errors import PcscUnavailableError
from card.monitor import JPKI_AID, EventKind, ReaderEvent, ReaderMonitor, is_mynumber_card
from card.pcsc import list_readers, open_reader
from jpki.constants import MYNUMBER_CARD_ATR
from simulators.pcsc_stack import PcscStack
from simulators.vpcd import VpcdBridge
from tests.pcsc.fixtures import FakeCard, ReaderPool

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(60)]


def collect_until(
    monitor: ReaderMonitor, done: Callable[[list[ReaderEvent]], bool], timeout: float = 10.0
) -> list[ReaderEvent]:
    seen: list[ReaderEvent] = []
    for event in monitor.events(timeout):
        seen.append(event)
        if done(seen):
            return seen
    raise AssertionError(f"condition not met within {timeout} s; events: {seen}")


def has(kind: EventKind, reader: str | None = None) -> Callable[[list[ReaderEvent]], bool]:
    return lambda seen: any(e.kind is kind and (reader is None or e.reader == reader) for e in seen)


def test_initial_state_then_insert_and_remove(
    pcsc_stack: PcscStack, reader_pool: ReaderPool
) -> None:
    names = [r.name for r in pcsc_stack.readers]
    with ReaderMonitor() as monitor:
        first = collect_until(
            monitor,
            lambda seen: sum(e.kind is EventKind.READER_ATTACHED for e in seen) == len(names),
        )
        assert [e.reader for e in first if e.kind is EventKind.READER_ATTACHED] == names

        card = FakeCard(atr=bytes.fromhex("3BE000FF8131FE4514"))
        plugged = reader_pool.plug(card, wait=False)
        inserted = collect_until(monitor, has(EventKind.CARD_INSERTED, plugged.reader))
        event = next(
            e for e in inserted if e.kind is EventKind.CARD_INSERTED and e.reader == plugged.reader
        )
        assert event.atr == card.atr
        assert event.to_dict()["atr"] == "3BE000FF8131FE4514"

        plugged.bridge.remove()
        removed = collect_until(monitor, has(EventKind.CARD_REMOVED, plugged.reader))
        assert [e.kind for e in removed if e.reader == plugged.reader] == [EventKind.CARD_REMOVED]


def test_events_returns_after_its_timeout_when_nothing_happens(pcsc_stack: PcscStack) -> None:
    with ReaderMonitor() as monitor:
        list(monitor.events(0.5))  # initial state
        started = time.monotonic()
        assert list(monitor.events(0.6)) == []
        assert 0.5 <= time.monotonic() - started < 3


def test_stop_from_another_thread_ends_a_long_wait(pcsc_stack: PcscStack) -> None:
    import threading

    with ReaderMonitor(slice_seconds=30) as monitor:
        list(monitor.events(0.3))
        timer = threading.Timer(0.3, monitor.stop)
        timer.start()
        started = time.monotonic()
        assert list(monitor.events(60)) == []
        assert time.monotonic() - started < 5


def test_mynumber_card_is_told_by_select_not_by_atr(reader_pool: ReaderPool) -> None:
    impostor = reader_pool.plug(FakeCard(atr=MYNUMBER_CARD_ATR))  # right ATR, no applet
    real = reader_pool.plug(FakeCard(atr=bytes.fromhex("3B8180018080"), applet=JPKI_AID))
    with open_reader(impostor.reader) as connection:
        assert not is_mynumber_card(connection)
    with open_reader(real.reader) as connection:
        assert is_mynumber_card(connection)


def test_pcscd_gone_then_back(pcsc_stack: PcscStack, reader_pool: ReaderPool) -> None:
    """pcscd stops: clients get PcscUnavailableError saying how to fix it, the monitor
    reports the loss; pcscd starts again: the monitor sees readers and cards again."""
    plugged = reader_pool.plug(FakeCard())
    with ReaderMonitor(retry_seconds=0.2) as monitor:
        collect_until(monitor, has(EventKind.CARD_INSERTED, plugged.reader))
        pcsc_stack.take_down()
        try:
            with pytest.raises(PcscUnavailableError, match="start pcscd"):
                list_readers()
            with pytest.raises(PcscUnavailableError, match="start pcscd"):
                open_reader("0")
            lost = collect_until(monitor, has(EventKind.SERVICE_LOST))
            assert has(EventKind.CARD_REMOVED, plugged.reader)(lost)
            assert has(EventKind.READER_DETACHED, plugged.reader)(lost)
        finally:
            pcsc_stack.bring_up()
        assert not plugged.bridge.inserted  # vpcd dropped the card with pcscd
        back = collect_until(
            monitor,
            lambda seen: (
                has(EventKind.SERVICE_RESTORED)(seen)
                and has(EventKind.READER_ATTACHED, plugged.reader)(seen)
            ),
        )
        assert back[0].kind is EventKind.SERVICE_RESTORED
        bridge = VpcdBridge(plugged.bridge.card, port=plugged.bridge.port)
        plugged.bridge = bridge
        bridge.insert()
        collect_until(monitor, has(EventKind.CARD_INSERTED, plugged.reader))
