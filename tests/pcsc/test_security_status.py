"""When verified PINs end, through the real pcscd + vpcd (real-card-notes.md §0): a
PC/SC warm reset (SCARD_RESET_CARD) and a dropped connection keep them [obs]; an unpower
(SCARD_UNPOWER_CARD) clears them [obs]."""

from __future__ import annotations

import hashlib

import pytest

from card.errors import SecurityStatusNotSatisfiedError
from card.pcsc import PcscConnection, open_reader
from card.protocol import CardChannel
from jpki.constants import KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.personas import Persona
from tests.pcsc.fixtures import SharedReader

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(60)]
DIGEST = hashlib.sha256(b"security status").digest()


def unpower(connection: PcscConnection) -> None:
    from smartcard.scard import SCARD_UNPOWER_CARD, SCardReconnect

    hr, _ = SCardReconnect(
        connection._handle, connection._share, connection._preferred, SCARD_UNPOWER_CARD
    )
    assert hr == 0, hex(hr)


@pytest.fixture
def reader(first_reader: SharedReader, software_card: SoftwareCard) -> str:
    first_reader.swap(software_card)
    return first_reader.reader


def test_warm_reset_and_reconnect_keep_the_pin(reader: str, persona: Persona) -> None:
    connection = open_reader(reader, timeout=5)
    try:
        JpkiSession(CardChannel(connection)).verify_pin(PinKind.AUTH, persona.pins.auth)
        connection.reset()
    finally:
        connection.close()  # leaves the card powered
    again = open_reader(reader, timeout=5)
    try:
        session = JpkiSession(CardChannel(again))
        assert session.pin_status(PinKind.AUTH).verified
        assert len(session.sign(KeyKind.AUTH, DIGEST)) == 256
    finally:
        again.close()


def test_unpower_clears_the_pin(reader: str, persona: Persona) -> None:
    connection = open_reader(reader, timeout=5)
    try:
        JpkiSession(CardChannel(connection)).verify_pin(PinKind.AUTH, persona.pins.auth)
        unpower(connection)
        session = JpkiSession(CardChannel(connection))
        assert session.pin_status(PinKind.AUTH).remaining == PinKind.AUTH.max_tries
        with pytest.raises(SecurityStatusNotSatisfiedError):
            session.sign(KeyKind.AUTH, DIGEST)
    finally:
        connection.close()
