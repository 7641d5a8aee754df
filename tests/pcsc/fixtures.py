"""Pytest plugin (tests/conftest.py: pytest_plugins): the real PC/SC stack for tests:
pcscd (private config, 4 vpcd readers) started once
per session, software cards plugged in through simulators.vpcd.

If pcscd, vpcd or pyscard are missing these tests FAIL under CI=true and skip locally.

For the session suites (used by tests/conftest.py to run them a second time):

    def test_x(pcsc_channel_factory):
        channel = pcsc_channel_factory(card)          # card: SoftwareCard
        # channel: card.protocol.CardChannel over card.pcsc.PcscConnection, i.e.
        # pyscard -> pcscd -> vpcd -> simulators.vpcd.VpcdBridge -> card.process()
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from card.trace import ApduTracer
from simulators.pcsc_stack import PcscStack, PcscStackError, VirtualReader, missing_packages
from simulators.vpcd import VirtualCard, VpcdBridge

FAKE_ATR = bytes.fromhex("3B8180018080")
JPKI_AID = bytes.fromhex("D392F000260100000001")


def _unavailable(reason: str) -> None:
    # The same reading of CI as tests/conftest.py's IN_CI (CI=1 and CI=yes count too).
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PC/SC stack required in CI: {reason}")
    pytest.skip(reason)


class FakeCard:
    """A tiny card for bridge tests: knows one applet, echoes everything else.

    SELECT of `applet` -> 9000, other SELECT by name -> 6A82; `00 EE ..` with data
    echoes the data; anything else -> 9000 with the header as data."""

    def __init__(self, atr: bytes = FAKE_ATR, applet: bytes | None = None) -> None:
        self.atr = atr
        self.applet = applet
        self.powered = True
        self.resets = 0

    def power_on(self) -> bytes:
        self.powered = True
        return self.atr

    def power_off(self) -> None:
        self.powered = False

    def reset(self) -> bytes:
        self.resets += 1
        return self.power_on()

    def process(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xA4 and apdu[2] == 0x04:
            return b"\x90\x00" if apdu[5 : 5 + apdu[4]] == self.applet else b"\x6a\x82"
        if apdu[1] == 0xEE and len(apdu) > 7 and apdu[4] == 0:  # extended Lc
            return apdu[7 : 7 + int.from_bytes(apdu[5:7], "big")] + b"\x90\x00"
        if apdu[1] == 0xEE and len(apdu) > 5:
            return apdu[5 : 5 + apdu[4]] + b"\x90\x00"
        return apdu[:4] + b"\x90\x00"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that goes through pcscd with `pcsc` (so `-m "not pcsc"` leaves
    them out): users of these fixtures, and session tests run with transport=pcsc."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        through_pcscd = "pcsc_stack" in getattr(item, "fixturenames", ()) or (
            callspec is not None and callspec.params.get("transport") == "pcsc"
        )
        if through_pcscd:
            item.add_marker(pytest.mark.pcsc)


@pytest.fixture(scope="session")
def pcsc_stack() -> Iterator[PcscStack]:
    missing = missing_packages()
    if missing:
        _unavailable(f"apt packages missing: {missing}")
    if importlib.util.find_spec("smartcard") is None:
        _unavailable("pyscard is not installed (pip install pyscard)")
    stack = PcscStack(
        entries=2,
        reuse=os.environ.get("MYNATERM_PCSCD_REUSE") == "1",
        lock_wait=float(os.environ.get("MYNATERM_PCSC_LOCK_WAIT", "120")),
    )
    try:
        stack.start()
    except PcscStackError as exc:
        pytest.fail(str(exc))
    yield stack
    stack.stop()


@dataclass
class Plugged:
    bridge: VpcdBridge
    reader: str


@dataclass
class ReaderPool:
    """Hands out the vpcd readers other than the first (kept for the shared slot)."""

    readers: list[VirtualReader]
    plugged: list[Plugged] = field(default_factory=list)

    def plug(self, card: VirtualCard, *, wait: bool = True) -> Plugged:
        from card.pcsc import wait_for_reader

        used = {p.reader for p in self.plugged}
        reader = next(r for r in self.readers if r.name not in used)
        bridge = VpcdBridge(card, port=reader.port)
        bridge.insert()
        plugged = Plugged(bridge, reader.name)
        self.plugged.append(plugged)
        if wait:
            assert wait_for_reader(reader.name, present=True, timeout=5), "card not seen"
        return plugged

    def unplug_all(self) -> None:
        from card.pcsc import wait_for_reader

        for plugged in self.plugged:
            plugged.bridge.remove()
        for plugged in self.plugged:
            # The next test must not find a half-removed card (pcscd polls every 400 ms).
            wait_for_reader(plugged.reader, present=False, timeout=5)
        self.plugged.clear()


@pytest.fixture
def reader_pool(pcsc_stack: PcscStack) -> Iterator[ReaderPool]:
    pool = ReaderPool(pcsc_stack.readers[1:])
    yield pool
    pool.unplug_all()


class SharedReader:
    """The first vpcd reader with a bridge that stays inserted for the whole session;
    tests swap the card behind it, then reset the card (as a fresh insertion would)."""

    def __init__(self, reader: VirtualReader) -> None:
        self.reader = reader.name
        self.bridge = VpcdBridge(FakeCard(), port=reader.port)
        self._t0 = False

    def put(self, card: VirtualCard) -> None:
        """Put `card` behind the reader. pcscd settles the transmission protocol when it
        powers a card up and keeps it over a reset, so a card with the other protocol
        (T=0 after T=1, or back) is re-inserted instead of only swapped."""
        from card.pcsc import wait_for_reader

        t0 = bool(getattr(card, "t0", False))
        if t0 != self._t0 and self.bridge.inserted:
            self.bridge.remove()
            assert wait_for_reader(self.reader, present=False, timeout=5), "card not pulled"
        self._t0 = t0
        self.bridge.card = card

    def ensure_inserted(self) -> None:
        """(Re)insert after a test restarted pcscd, which drops vpcd's connections."""
        from card.pcsc import wait_for_reader

        if not self.bridge.inserted:
            self.bridge.insert()
        assert wait_for_reader(self.reader, present=True, timeout=5), "shared card not seen"

    def swap(self, card: VirtualCard) -> None:
        """Put `card` behind the first reader, reset as if freshly inserted, and leave
        the reader free for any client (OpenSC, the CLI)."""
        from card.pcsc import open_reader

        self.put(card)
        self.ensure_inserted()
        with open_reader(self.reader, shared=True, timeout=5) as connection:
            connection.reset()


@pytest.fixture(scope="session")
def _shared_slot(pcsc_stack: PcscStack) -> Iterator[SharedReader]:

    slot = SharedReader(pcsc_stack.readers[0])
    slot.ensure_inserted()
    yield slot
    slot.bridge.remove()


@pytest.fixture
def first_reader(_shared_slot: SharedReader) -> Iterator[SharedReader]:
    """The first vpcd reader ("Virtual PCD 00 00", index 0): `first_reader.swap(card)`
    puts a card in it for tools that take the first reader (OpenSC, the CLI)."""
    yield _shared_slot
    _shared_slot.put(FakeCard())
    _shared_slot.bridge.commands = None


@pytest.fixture
def pcsc_channel_factory(_shared_slot: SharedReader) -> Iterator[Callable[..., object]]:
    """factory(card, *, extended_length=None, tracer=None) -> CardChannel through pcscd + vpcd.

    extended_length=None mirrors SoftwareCardConnection (extended unless the card runs
    T=0), so a suite sees the same APDUs on both transports; pass False to force the
    short APDUs card.pcsc picks by itself for the My Number card's ATR."""
    from card.pcsc import PcscConnection, open_reader
    from card.protocol import CardChannel

    opened: list[PcscConnection] = []

    def factory(
        card: VirtualCard, *, extended_length: bool | None = None, tracer: ApduTracer | None = None
    ) -> CardChannel:
        for connection in opened:
            connection.close()
        opened.clear()
        _shared_slot.put(card)
        _shared_slot.ensure_inserted()
        if extended_length is None:
            extended_length = not getattr(card, "t0", False)
        connection = open_reader(_shared_slot.reader, timeout=5, extended_length=extended_length)
        opened.append(connection)
        connection.reset()  # the new card starts from power-up, its ATR read again
        return CardChannel(connection, tracer=tracer)

    yield factory
    for connection in opened:
        connection.close()
    _shared_slot.put(FakeCard())
