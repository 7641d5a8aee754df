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
from collections.abc import Callable
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
        from simulators.card.issuer import card_issuer_for

        issuer_roots = dict(card_issuer_for(pki).trusted_roots())
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
    surface_reads(template, issuer_roots, args.rounds)


# --- the 券面 and common applets (issue 11) --------------------------------------------


def surface_operations(trusted: dict[bytes, object]) -> dict[str, Callable[[CardChannel], None]]:
    """The new reads, each from a fresh selection. The card-info read with 照合番号B is
    the no-PIN counterpart of "card-info read (+PIN, integrity)" above."""
    from jpki.cardinfo_ap import CardInfoSession
    from jpki.common_ap import CommonSession
    from jpki.photo import decode_photo
    from jpki.surface_ap import SurfaceSession

    persona = get_persona("yamada-taro")

    def face(channel: CardChannel) -> None:
        session = SurfaceSession(channel)
        session.verify_code("B", persona.code_b)
        session.read_card_face()

    def face_verified(channel: CardChannel) -> None:
        session = SurfaceSession(channel)
        session.verify_code("B", persona.code_b)
        session.verify_face(session.read_card_face(), trusted)  # type: ignore[arg-type]

    def face_photo_png(channel: CardChannel) -> None:
        session = SurfaceSession(channel)
        session.verify_code("A", persona.my_number.reveal())
        decode_photo(session.read_card_face().photo_jp2)

    def age(channel: CardChannel) -> None:
        session = SurfaceSession(channel)
        session.verify_birth_date(persona.birth_date)
        session.read_age_record()

    def card_info_code_b(channel: CardChannel) -> None:
        session = CardInfoSession(channel)
        session.verify_code("B", persona.code_b)
        session.read_basic_four()

    def common_record(channel: CardChannel) -> None:
        CommonSession(channel).read_card_record()

    def common_internal_auth(channel: CardChannel) -> None:
        CommonSession(channel).internal_authenticate(b"\x01" * 32)

    return {
        "surface face (照合番号B)": face,
        "surface face + signature check": face_verified,
        "surface face + photo to PNG (A)": face_photo_png,
        "surface age record (birth date)": age,
        "card-info basic 4 (照合番号B)": card_info_code_b,
        "common record (READ RECORD)": common_record,
        "common INTERNAL AUTHENTICATE": common_internal_auth,
    }


def surface_reads(template: SoftwareCard, trusted: dict[bytes, object], rounds: int) -> None:
    """Same measurement as above for the card-surface, card-info-by-code and common
    reads: APDUs, time through the sessions, and the raw replay of the same APDUs."""
    print()
    print(
        f"{'券面 / common operation':36} {'APDUs':>5} {'project ms':>11} {'raw ms':>8} {'ratio':>6}"
    )
    for name, operation in surface_operations(trusted).items():
        project, raw = [], []
        apdus = 0
        for _ in range(rounds):
            recording = Recording(template.copy())
            start = time.perf_counter()
            operation(CardChannel(recording))
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
