"""Card operations in process: APDUs sent and wall time per operation, against a
baseline measured in the same run (the same raw APDU sequence replayed straight into the
software card, with no protocol or session code).

    .venv/bin/python benchmarks/bench_card.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from card_operations import operations

from card.protocol import CardChannel
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
