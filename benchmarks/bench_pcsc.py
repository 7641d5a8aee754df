"""Card operations through the real PC/SC stack (pyscard -> pcscd -> vpcd -> software
card), against baselines measured in the same run:

1. per operation: APDUs and median wall time of the project's session code vs a bare
   SCardTransmit loop replaying the exact same APDUs on the same reader (goal <= 1.10).
   The APDUs are recorded once, untimed; each round then times the project (bare
   PcscConnection, no recording wrapper) and the replay on fresh card copies, in
   alternating order. "paired" is the median of the per-round ratios, which drift on a
   busy machine affects less than the ratio of the two medians;
2. reading the auth certificate: APDUs and time of OpenSC's pkcs15-tool (JPKI driver)
   vs the project (goal: project APDUs <= OpenSC's);
3. the 44 ms trap: SELECT round trips with and without TCP_QUICKACK on the card side.

Starts its own pcscd (none may be running):

    .venv/bin/python benchmarks/bench_pcsc.py [--rounds N] [--operations-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from card_operations import operations

from card.pcsc import PcscConnection, open_reader, replay, wait_for_reader
from card.protocol import CardChannel
from jpki.constants import CertKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.pcsc_stack import PcscStack
from simulators.personas import get_persona
from simulators.pki import TestPki
from simulators.vpcd import VpcdBridge

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")


class Recording:
    """A PcscConnection that keeps the raw APDUs the project sends, for the replay."""

    def __init__(self, inner: PcscConnection) -> None:
        self.inner = inner
        self.extended_length = inner.extended_length
        self.sent: list[bytes] = []
        self.words: list[int] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        data, sw = self.inner.transmit(apdu)
        self.words.append(sw)
        return data, sw


def ms(seconds: float) -> float:
    return seconds * 1000


def fresh(bridge: VpcdBridge, connection: PcscConnection, template: SoftwareCard) -> None:
    """A new copy of the card behind the reader, reset as if just inserted (untimed)."""
    bridge.card = template.copy()
    connection.reset()


def bench_operations(
    bridge: VpcdBridge,
    reader: str,
    template: SoftwareCard,
    pins: dict[str, str],
    rounds: int,
    extended: bool | None,
) -> None:
    label = "auto (short APDUs for this ATR)" if extended is None else f"extended={extended}"
    print(f"\n== operations through pcscd, {label}; median of {rounds} rounds")
    print("   ratio = median project / median raw (the goal); paired = median of per-round")
    print("   ratios, project and raw interleaved, alternating which runs first")
    print(
        f"{'operation':34} {'APDUs':>5} {'project ms':>11} {'raw ms':>8} {'ratio':>6} "
        f"{'paired':>6} {'us/APDU':>8}  goal<=1.10"
    )
    with open_reader(reader, timeout=5, extended_length=extended) as connection:
        for name, operation in operations(pins).items():
            # The APDUs to replay are recorded in an untimed run first, so the timed
            # project runs go through the bare PcscConnection with no recording wrapper.
            fresh(bridge, connection, template)
            recording = Recording(connection)
            operation(CardChannel(recording))
            apdus = len(recording.sent)
            project, raw, paired = [], [], []
            for round_ in range(rounds):
                # Alternate which side runs first, so drift and warm-up hit both alike.
                order = ("project", "raw") if round_ % 2 == 0 else ("raw", "project")
                timed: dict[str, float] = {}
                for side in order:
                    fresh(bridge, connection, template)
                    before = bridge.apdu_count
                    if side == "project":
                        channel = CardChannel(connection)
                        start = time.perf_counter()
                        operation(channel)
                        timed[side] = time.perf_counter() - start
                        assert channel.apdu_count == apdus, "the project sent other APDUs"
                    else:
                        start = time.perf_counter()
                        words = replay(connection, recording.sent)
                        timed[side] = time.perf_counter() - start
                        assert words == recording.words, "the replay went differently"
                    assert bridge.apdu_count - before == apdus
                project.append(timed["project"])
                raw.append(timed["raw"])
                paired.append(timed["project"] / timed["raw"])
            p, r = ms(statistics.median(project)), ms(statistics.median(raw))
            verdict = "met" if p / r <= 1.10 else "NOT met"
            # The project's own cost per APDU (session + protocol + PcscConnection code).
            per_apdu = (p - r) * 1000 / apdus
            print(
                f"{name:34} {apdus:>5} {p:>11.3f} {r:>8.3f} {p / r:>6.2f} "
                f"{statistics.median(paired):>6.2f} {per_apdu:>8.1f}  {verdict}"
            )


def bench_opensc(bridge: VpcdBridge, reader: str, template: SoftwareCard, rounds: int) -> None:
    print("\n== reading the auth certificate: OpenSC pkcs15-tool (JPKI driver) vs project")
    if shutil.which("pkcs15-tool") is None:
        print("OpenSC not installed (apt-get install opensc): skipped")
        return
    env = {**os.environ, "OPENSC_DRIVER": "jpki"}
    opensc_apdus, opensc_times = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "auth.pem"
        for _ in range(max(3, rounds // 5)):
            bridge.card = template.copy()
            with open_reader(reader, shared=True, timeout=5) as connection:
                connection.reset()
            before = bridge.apdu_count
            start = time.perf_counter()
            subprocess.run(
                ["pkcs15-tool", "--reader", "0", "--read-certificate", "01", "-o", str(out)],
                env=env,
                check=True,
                capture_output=True,
            )
            opensc_times.append(time.perf_counter() - start)
            opensc_apdus = bridge.apdu_count - before
    print(f"{'client':40} {'APDUs':>5} {'ms':>9}")
    print(
        f"{'OpenSC pkcs15-tool (whole process)':40} {opensc_apdus:>5} "
        f"{ms(statistics.median(opensc_times)):>9.2f}"
    )
    for extended in (None, True):
        with open_reader(reader, timeout=5, extended_length=extended) as connection:
            times, apdus = [], 0
            for _ in range(rounds):
                fresh(bridge, connection, template)
                before = bridge.apdu_count
                start = time.perf_counter()
                JpkiSession(CardChannel(connection)).read_certificate(CertKind.AUTH)
                times.append(time.perf_counter() - start)
                apdus = bridge.apdu_count - before
        name = "project, short APDUs (default)" if extended is None else "project, extended"
        print(f"{name:40} {apdus:>5} {ms(statistics.median(times)):>9.2f}")
        if extended is None:
            verdict = "met" if apdus <= opensc_apdus else "NOT met"
            print(f"{'':40} goal project <= OpenSC: {verdict} ({apdus} vs {opensc_apdus})")


def bench_quickack(bridge: VpcdBridge, reader: str, template: SoftwareCard) -> None:
    print("\n== the 44 ms trap: SELECT round trip, card side with / without TCP_QUICKACK")
    print(f"{'card socket':28} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'APDU/s':>8}")
    for quickack, count in ((True, 300), (False, 40)):
        bridge.quickack = quickack
        bridge.card = template.copy()
        with open_reader(reader, timeout=5) as connection:
            connection.reset()
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                connection.transmit(SELECT_JPKI)
                samples.append(time.perf_counter() - start)
        samples.sort()
        p50, p99 = (
            samples[len(samples) // 2],
            samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        )
        name = "NODELAY + QUICKACK (fixed)" if quickack else "NODELAY only (the trap)"
        print(f"{name:28} {count:>4} {ms(p50):>8.3f} {ms(p99):>8.3f} {count / sum(samples):>8.0f}")
    bridge.quickack = True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--operations-only", action="store_true", help="skip the OpenSC and 44 ms sections"
    )
    args = parser.parse_args()
    persona = get_persona("yamada-taro")
    test_pins = persona.pins_from_env()
    pins = {"auth": test_pins.auth, "sign": test_pins.sign, "cardinfo": test_pins.cardinfo}
    with tempfile.TemporaryDirectory() as tmp:
        template = SoftwareCard.create(persona, TestPki.open_or_create(Path(tmp) / "pki"))
    with PcscStack(lock_wait=60) as stack:
        reader = stack.readers[0]
        bridge = VpcdBridge(template.copy(), port=reader.port)
        bridge.insert()
        try:
            if not wait_for_reader(reader.name, present=True, timeout=5):
                raise SystemExit("pcscd did not see the software card")
            bench_operations(bridge, reader.name, template, pins, args.rounds, None)
            bench_operations(bridge, reader.name, template, pins, args.rounds, True)
            if not args.operations_only:
                bench_opensc(bridge, reader.name, template, args.rounds)
                bench_quickack(bridge, reader.name, template)
        finally:
            bridge.remove()


if __name__ == "__main__":
    main()
