"""The card operations the card benchmarks time, shared so that the in-process and the
pcscd benchmarks measure exactly the same work."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from card.protocol import CardChannel
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession


def operations(pins: dict[str, str]) -> dict[str, Callable[[CardChannel], None]]:
    def select(channel: CardChannel) -> None:
        JpkiSession(channel)

    def read_all_certificates(channel: CardChannel) -> None:
        session = JpkiSession(channel)
        session.verify_pin(PinKind.SIGN, pins["sign"])
        for kind in CertKind:
            session.read_certificate(kind)

    def pin_status(channel: CardChannel) -> None:
        session = JpkiSession(channel)
        session.pin_status(PinKind.AUTH)
        session.pin_status(PinKind.SIGN)
        CardInfoSession(channel).pin_status()

    def auth_signature(channel: CardChannel) -> None:
        session = JpkiSession(channel)
        session.verify_pin(PinKind.AUTH, pins["auth"])
        session.sign(KeyKind.AUTH, hashlib.sha256(b"challenge").digest())

    def card_info(channel: CardChannel) -> None:
        session = CardInfoSession(channel)
        session.verify_pin(pins["cardinfo"])
        session.read_my_number()
        session.read_basic_four()
        session.check_integrity()

    return {
        "SELECT JPKI applet": select,
        "read 4 certificates (+sign PIN)": read_all_certificates,
        "PIN status x3": pin_status,
        "auth signature (+PIN)": auth_signature,
        "card-info read (+PIN, integrity)": card_info,
    }
