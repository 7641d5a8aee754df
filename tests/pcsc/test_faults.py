"""Faults through the real stack: a card pulled mid-certificate and mid-signature, a
second client, a card that breaks. Each must end in a typed error within seconds."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from card.errors import CardError, CardRemovedError
from card.pcsc import open_reader
from card.protocol import CardChannel
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.vpcd import MINIMAL_ATR
from tests.pcsc.fixtures import FakeCard, ReaderPool

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(60)]

READ_BINARY, SIGN = 0xB0, 0x2A


def _channel(reader: str) -> CardChannel:
    return CardChannel(open_reader(reader, timeout=5))


def test_card_pulled_while_reading_a_certificate(
    reader_pool: ReaderPool, software_card: SoftwareCard
) -> None:
    plugged = reader_pool.plug(software_card)
    channel = _channel(plugged.reader)
    try:
        session = JpkiSession(channel)
        # SELECT EF, first READ BINARY, then the card goes away on the second read.
        plugged.bridge.pull_after(3)
        started = time.monotonic()
        with pytest.raises(CardRemovedError):
            session.read_certificate(CertKind.AUTH)
        assert time.monotonic() - started < 5
        # Later commands keep failing with the same typed error, they do not hang.
        with pytest.raises(CardRemovedError):
            session.token_info()
    finally:
        channel.connection.close()  # type: ignore[attr-defined]


def test_card_pulled_by_another_thread_while_signing(
    reader_pool: ReaderPool, software_card: SoftwareCard, persona: Persona
) -> None:
    plugged = reader_pool.plug(software_card)
    signing = threading.Event()

    def slow_signature(apdu: bytes) -> None:
        if apdu[1] == SIGN:  # a real card takes about a second to sign
            signing.set()
            time.sleep(1.0)

    plugged.bridge.on_apdu = slow_signature
    channel = _channel(plugged.reader)
    try:
        session = JpkiSession(channel)
        session.verify_pin(PinKind.AUTH, persona.pins_from_env().auth)

        def pull_while_signing() -> None:
            if signing.wait(5):
                plugged.bridge.remove()

        puller = threading.Thread(target=pull_while_signing)
        puller.start()
        started = time.monotonic()
        with pytest.raises(CardRemovedError):
            session.sign(KeyKind.AUTH, hashlib.sha256(b"login").digest())
        assert time.monotonic() - started < 5
        puller.join(5)
        assert signing.is_set()
    finally:
        channel.connection.close()  # type: ignore[attr-defined]


def test_removed_card_and_a_new_one_in_the_same_reader(reader_pool: ReaderPool) -> None:
    """After a removal the old connection stays dead; a new connection sees the new card."""
    plugged = reader_pool.plug(FakeCard())
    connection = open_reader(plugged.reader)
    try:
        plugged.bridge.remove()
        with pytest.raises(CardRemovedError):
            for _ in range(20):  # pcscd notices within its ~400 ms poll
                connection.transmit(b"\x00\x01\x02\x03")
                time.sleep(0.1)
        plugged.bridge.insert()
        with open_reader(plugged.reader, timeout=5) as fresh:
            assert fresh.transmit(b"\x00\x01\x02\x03")[1] == 0x9000
    finally:
        connection.close()


class BrokenCard(FakeCard):
    def process(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xEE:
            raise RuntimeError("card OS bug")
        if apdu[1] == 0xEF:
            return b"\x90"  # too short to carry a status word
        return super().process(apdu)


def test_a_card_that_raises_still_answers_6f00(reader_pool: ReaderPool) -> None:
    plugged = reader_pool.plug(BrokenCard())
    with open_reader(plugged.reader) as connection:
        assert connection.transmit(bytes.fromhex("00EE000001AA")) == (b"", 0x6F00)
        assert connection.transmit(bytes.fromhex("00EF0000")) == (b"", 0x6F00)
        # and the reader still works afterwards
        assert connection.transmit(bytes.fromhex("00010203")) == (bytes.fromhex("00010203"), 0x9000)


def test_closed_connection_refuses_commands(reader_pool: ReaderPool) -> None:
    plugged = reader_pool.plug(FakeCard())
    connection = open_reader(plugged.reader)
    connection.close()
    connection.close()  # idempotent
    with pytest.raises(CardError, match="closed"):
        connection.transmit(b"\x00\x01\x02\x03")


def test_reset_by_another_program_is_reported_and_recoverable(reader_pool: ReaderPool) -> None:
    plugged = reader_pool.plug(FakeCard())
    with (
        open_reader(plugged.reader, shared=True) as mine,
        open_reader(plugged.reader, shared=True) as other,
    ):
        assert mine.transmit(b"\x00\x01\x02\x03")[1] == 0x9000
        other.reset()
        with pytest.raises(CardRemovedError, match="reset"):
            mine.transmit(b"\x00\x01\x02\x03")
        mine.reset()  # the documented recovery: our own reset, then start over
        assert mine.transmit(b"\x00\x01\x02\x03")[1] == 0x9000


def test_two_readers_serve_two_cards_at_the_same_time(
    reader_pool: ReaderPool, card_templates: dict[str, SoftwareCard]
) -> None:
    # Two different people, so that a mix-up between the readers would show.
    cards = [card_templates["yamada-taro"].copy(), card_templates["sato-hanako"].copy()]
    assert cards[0].auth_certificate != cards[1].auth_certificate
    readers = [reader_pool.plug(card).reader for card in cards]
    results: dict[str, list[bytes]] = {}
    failures: list[BaseException] = []

    def read_repeatedly(reader: str) -> None:
        try:
            channel = _channel(reader)
            try:
                session = JpkiSession(channel)
                results[reader] = [session.read_certificate(CertKind.AUTH) for _ in range(5)]
            finally:
                channel.connection.close()  # type: ignore[attr-defined]
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=read_repeatedly, args=(r,)) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    for reader, card in zip(readers, cards, strict=True):
        assert results[reader] == [card.auth_certificate] * 5


class NoAtrCard(FakeCard):
    """A card whose ATR getter breaks after insertion: vpcd must still get an answer."""

    broken = False

    @property
    def atr(self) -> bytes:
        if self.broken:
            raise RuntimeError("no ATR")
        return b"\x3b\x81\x80\x01\x80\x80"

    @atr.setter
    def atr(self, value: bytes) -> None:
        pass


def test_a_card_without_atr_does_not_hang_the_reader(reader_pool: ReaderPool) -> None:
    card = NoAtrCard()
    plugged = reader_pool.plug(card)
    card.broken = True
    with open_reader(plugged.reader, timeout=5) as connection:
        assert connection.reset() == MINIMAL_ATR  # answered, so pcscd carries on
        card.broken = False
        assert connection.reset() == b"\x3b\x81\x80\x01\x80\x80"
        assert connection.transmit(b"\x00\x01\x02\x03")[1] == 0x9000
