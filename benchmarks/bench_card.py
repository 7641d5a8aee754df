"""Card operations in process: APDUs sent and wall time per operation, against a
baseline measured in the same run (the same raw APDU sequence replayed straight into the
software card, with no protocol or session code).

    .venv/bin/python benchmarks/bench_card.py [--rounds N]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from card.protocol import CardChannel
from jpki.cardinfo_ap import CardInfoSession
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import get_persona
from simulators.pki import TestPki


class Recording:
    def __init__(self, card: SoftwareCard) -> None:
        self.inner = SoftwareCardConnection(card)
        self.extended_length = True
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        return self.inner.transmit(apdu)


def operations(pins: dict[str, str]) -> dict[str, Callable[[CardChannel], None]]:
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
        "read 4 certificates (+sign PIN)": read_all_certificates,
        "PIN status x3": pin_status,
        "auth signature (+PIN)": auth_signature,
        "card-info read (+PIN, integrity)": card_info,
    }


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    persona = get_persona("yamada-taro")
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPki.open_or_create(Path(tmp) / "pki")
        template = SoftwareCard.create(persona, pki)
    pins = {"auth": persona.pins.auth, "sign": persona.pins.sign, "cardinfo": persona.pins.cardinfo}
    print(f"{'operation':36} {'APDUs':>5} {'project ms':>11} {'raw ms':>8} {'ratio':>6}")
    for name, operation in operations(pins).items():
        project, raw = [], []
        apdus = 0
        for _ in range(args.rounds):
            card = template.copy()
            recording = Recording(card)
            channel = CardChannel(recording)
            start = time.perf_counter()
            operation(channel)
            project.append(time.perf_counter() - start)
            apdus = len(recording.sent)
            replay_card = template.copy()
            start = time.perf_counter()
            for apdu in recording.sent:
                replay_card.process(apdu)
            raw.append(time.perf_counter() - start)
        p, r = median_ms(project), median_ms(raw)
        print(f"{name:36} {apdus:>5} {p:>11.3f} {r:>8.3f} {p / r:>6.2f}")


if __name__ == "__main__":
    main()
