"""pyscard -> pcscd -> vpcd -> bridge -> card: readers, ATR, APDUs, sharing, reset."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from card.errors import NoCardError, NoReaderError, ReaderBusyError
from card.pcsc import list_readers, open_reader, resolve_reader
from simulators.pcsc_stack import (
    PCSCD,
    PCSCD_PIDFILE,
    PCSCD_SOCKET,
    PcscStack,
    PcscStackError,
    running_pcscd_pid,
)
from tests.pcsc.fixtures import FAKE_ATR, FakeCard, ReaderPool

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(60)]


def test_pcscd_lists_the_virtual_readers(pcsc_stack: PcscStack) -> None:
    names = [info.name for info in list_readers()]
    assert names == [reader.name for reader in pcsc_stack.readers]


def test_inserted_card_shows_with_its_atr(reader_pool: ReaderPool) -> None:
    card = FakeCard(atr=bytes.fromhex("3BE000FF8131FE4514"))
    plugged = reader_pool.plug(card)
    info = {i.name: i for i in list_readers()}[plugged.reader]
    assert info.card_present
    assert info.atr == card.atr
    with open_reader(plugged.reader) as connection:
        assert connection.atr == card.atr
        assert connection.protocol == "T1"
        assert connection.extended_length is False  # no card capabilities in this ATR
        assert connection.transmit(bytes.fromhex("00EE000003010203")) == (b"\x01\x02\x03", 0x9000)
    assert plugged.bridge.apdu_count == 1


def test_extended_apdus_cross_pcscd_and_vpcd(reader_pool: ReaderPool) -> None:
    plugged = reader_pool.plug(FakeCard())
    payload = bytes(range(256)) * 2
    with open_reader(plugged.reader, extended_length=True) as connection:
        apdu = b"\x00\xee\x00\x00\x00" + len(payload).to_bytes(2, "big") + payload
        data, sw = connection.transmit(apdu)
    assert (data, sw) == (payload, 0x9000)
    assert plugged.bridge.apdu_count == 1


def test_empty_reader_raises_no_card(pcsc_stack: PcscStack, reader_pool: ReaderPool) -> None:
    empty = pcsc_stack.readers[-1].name
    with pytest.raises(NoCardError):
        open_reader(empty)
    with pytest.raises(NoCardError, match=r"within 0\.3 s"):
        open_reader(empty, timeout=0.3)


def test_unknown_reader_names_the_readers_there_are(pcsc_stack: PcscStack) -> None:
    with pytest.raises(NoReaderError, match="Virtual PCD 00 00"):
        open_reader("no such reader")
    with pytest.raises(NoReaderError, match="index 9"):
        open_reader("9")


def test_reader_by_index_and_by_part_of_its_name(pcsc_stack: PcscStack) -> None:
    names = [r.name for r in pcsc_stack.readers]
    assert resolve_reader("1", names) == "Virtual PCD 00 01"
    assert resolve_reader("pcd 2 00 01", names) == "Virtual PCD 2 00 01"
    with pytest.raises(NoReaderError, match="several"):
        resolve_reader("00 01", names)


def test_second_client_on_an_exclusive_card_is_busy(reader_pool: ReaderPool) -> None:
    plugged = reader_pool.plug(FakeCard())
    with open_reader(plugged.reader):
        with pytest.raises(ReaderBusyError):
            open_reader(plugged.reader)
        with pytest.raises(ReaderBusyError):
            open_reader(plugged.reader, shared=True)
    with (
        open_reader(plugged.reader, shared=True) as first,
        open_reader(plugged.reader, shared=True) as second,
    ):
        assert first.transmit(b"\x00\x01\x02\x03")[1] == second.transmit(b"\x00\x01\x02\x03")[1]
        with pytest.raises(ReaderBusyError):
            open_reader(plugged.reader)


def test_reset_reaches_the_card_and_returns_the_atr(reader_pool: ReaderPool) -> None:
    card = FakeCard()
    plugged = reader_pool.plug(card)
    with open_reader(plugged.reader) as connection:
        before = card.resets
        assert connection.reset() == FAKE_ATR
        assert card.resets == before + 1
        assert connection.transmit(b"\x00\x01\x02\x03") == (b"\x00\x01\x02\x03", 0x9000)


def test_foreign_pcscd_is_refused_or_reused_and_stale_files_are_cleared(
    pcsc_stack: PcscStack,
) -> None:
    pcsc_stack.take_down()
    try:
        # Someone else's pcscd (Debian's own config: vpcd on 35963 and 35964).
        foreign = subprocess.Popen(
            [str(PCSCD), "--foreground"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 5
            while running_pcscd_pid() != foreign.pid and time.monotonic() < deadline:
                time.sleep(0.05)
            assert running_pcscd_pid() == foreign.pid
            with pytest.raises(PcscStackError, match=f"pid {foreign.pid}"):
                PcscStack().start()
            reused = PcscStack(reuse=True).start()
            assert (reused.reused, reused.pid) == (True, foreign.pid)
            reused.stop()
            assert foreign.poll() is None  # a reused pcscd is left running
        finally:
            foreign.terminate()
            foreign.wait(5)
        # What a crashed pcscd leaves behind: a pid file naming another process, a socket.
        PCSCD_PIDFILE.parent.mkdir(exist_ok=True)
        PCSCD_PIDFILE.write_text(f"{os.getpid()}\n")
        PCSCD_SOCKET.touch()
        assert running_pcscd_pid() is None
    finally:
        pcsc_stack.bring_up()
    assert int(PCSCD_PIDFILE.read_text().strip("\0\n ")) == pcsc_stack.pid
    assert [info.name for info in list_readers()] == [r.name for r in pcsc_stack.readers]


def test_open_reader_waits_for_a_card_inserted_later(reader_pool: ReaderPool) -> None:
    import threading

    card = FakeCard()
    timer = threading.Timer(0.5, lambda: reader_pool.plug(card, wait=False))
    timer.start()
    try:
        reader = reader_pool.readers[0].name
        started = time.monotonic()
        with open_reader(reader, timeout=5) as connection:
            assert time.monotonic() - started >= 0.4
            assert connection.atr == card.atr
    finally:
        timer.join()
