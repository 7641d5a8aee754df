"""The card operations the card benchmarks time, shared so that the in-process and the
pcscd benchmarks measure exactly the same work."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from card.protocol import CardChannel
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.digestinfo import digest_info
from jpki.jpki_ap import JpkiSession, SignatureScheme


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

    def auth_signature_selecting_the_key(channel: CardChannel) -> None:
        # The APDU sequence before P2 named the key by short EF id (SELECT 0017, P2=80):
        # the same-run baseline for the signature's APDU count.
        session = JpkiSession(channel)
        session.verify_pin(PinKind.AUTH, pins["auth"])
        session.sign_with(
            KeyKind.AUTH,
            SignatureScheme.PKCS1_AS_SENT,
            digest_info(hashlib.sha256(b"challenge").digest(), "sha256"),
            select_key=True,
        )

    def sign_message_on_card(channel: CardChannel) -> None:
        session = JpkiSession(channel)
        session.verify_pin(PinKind.SIGN, pins["sign"])
        session.sign_message(KeyKind.SIGN, b"document digest input")

    def reselect_then_sign(channel: CardChannel) -> None:
        # Real-card clients re-select between VERIFY and SIGN; the PIN stays verified.
        JpkiSession(channel).verify_pin(PinKind.AUTH, pins["auth"])
        JpkiSession(channel).sign(KeyKind.AUTH, hashlib.sha256(b"challenge").digest())

    def token_info(channel: CardChannel) -> None:
        session = JpkiSession(channel)
        session.read_token_info()
        session.certificate_availability()

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
        "auth signature (+PIN), SELECT key": auth_signature_selecting_the_key,
        "sign, card hashes (+sign PIN)": sign_message_on_card,
        "VERIFY, re-select, sign": reselect_then_sign,
        "token info + EF 0008": token_info,
        "card-info read (+PIN, integrity)": card_info,
    }
