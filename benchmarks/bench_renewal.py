"""Renewal on the same card (issue 15): APDUs and wall time per renewal of both keys
through the issuer's admin commands (a model of the real issuer channel), in process,
with the test PKI certifying; the time split by step, against a baseline measured in the
same run (one kiosk signature: VERIFY + COMPUTE DIGITAL SIGNATURE on the same card).

On a real card the on-card RSA-2048 key generation dominates (a prime search on the
chip takes seconds per key); the software card generates with the host's CPU, so its
figure shows the protocol's own cost, and the APDU count is what a reader carries.

    .venv/bin/python benchmarks/bench_renewal.py [--rounds N]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from cryptography import x509

from card.protocol import CardChannel
from jpki.constants import Aid, KeyKind, PinKind
from jpki.issuance import GeneratedKey, IssuerSession, replace_keys
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki

STEP_OF_INS = {
    0x84: "authenticate",
    0x82: "authenticate",
    0xA4: "select",
    0x46: "generate",
    0xD6: "write",
    0x44: "activate",
}


class TimedConnection:
    """Times each APDU the card answers, by INS."""

    def __init__(self, card: SoftwareCard) -> None:
        self.inner = SoftwareCardConnection(card)
        self.extended_length = True
        self.by_step: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        start = time.perf_counter()
        answer = self.inner.transmit(apdu)
        step = STEP_OF_INS.get(apdu[1], "other")
        self.by_step[step] += time.perf_counter() - start
        self.count[step] += 1
        return answer


class Certifier:
    def __init__(self, pki: TestPki, holder: Persona, card: SoftwareCard) -> None:
        self.pki, self.holder = pki, holder
        self.replaces = {
            KeyKind.AUTH: x509.load_der_x509_certificate(card.auth_certificate).serial_number,
            KeyKind.SIGN: x509.load_der_x509_certificate(card.sign_certificate).serial_number,
        }
        self.seconds = 0.0

    def nonce(self) -> bytes:
        return self.pki.new_pop_nonce()

    def certify(self, generated: GeneratedKey) -> bytes:
        start = time.perf_counter()
        der, _ = self.pki.certify_generated_key(
            self.holder,
            generated.kind.value,
            generated.answer,
            generated.nonce,
            replaces=self.replaces[generated.kind],
        )
        self.seconds += time.perf_counter() - start
        return der


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    persona = get_persona("yamada-taro")
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPki.open_or_create(Path(tmp) / "pki")
        template = SoftwareCard.create(persona, pki)
        baseline: list[float] = []
        totals: list[float] = []
        certify: list[float] = []
        steps: dict[str, list[float]] = defaultdict(list)
        apdus = baseline_apdus = 0
        counts: dict[str, int] = {}
        digest = hashlib.sha256(b"baseline").digest()
        for _ in range(args.rounds):
            card = template.copy()
            channel = CardChannel(SoftwareCardConnection(card))
            start = time.perf_counter()
            session = JpkiSession(channel)
            session.verify_pin(PinKind.AUTH, persona.pins.auth, check_status_first=False)
            session.sign(KeyKind.AUTH, digest)
            baseline.append(time.perf_counter() - start)
            baseline_apdus = channel.apdu_count

            card = template.copy()
            connection = TimedConnection(card)
            channel = CardChannel(connection)
            certifier = Certifier(pki, persona, card)
            start = time.perf_counter()
            admin = IssuerSession(channel, Aid.JPKI, pki.answer_card_challenge)
            replace_keys(admin, [KeyKind.AUTH, KeyKind.SIGN], certifier)
            totals.append(time.perf_counter() - start)
            certify.append(certifier.seconds)
            for step, seconds in connection.by_step.items():
                steps[step].append(seconds)
            apdus = channel.apdu_count
            counts = dict(connection.count)
    base = statistics.median(baseline)
    total = statistics.median(totals)
    print(f"renewal of both keys on the same card, {args.rounds} rounds (median)")
    print(f"{'step':28} {'APDUs':>5} {'ms':>8} {'share':>6}")
    for step in ("select", "authenticate", "generate", "write", "activate"):
        median = statistics.median(steps[step]) if steps[step] else 0.0
        print(f"{'card: ' + step:28} {counts.get(step, 0):5} {ms(median)} {median / total:6.0%}")
    median_certify = statistics.median(certify)
    share = median_certify / total
    print(f"{'PKI: certify (PoP + sign)':28} {'':5} {ms(median_certify)} {share:6.0%}")
    print(f"{'renewal total':28} {apdus:5} {ms(total)}")
    print(f"{'baseline: one kiosk signature':28} {baseline_apdus:5} {ms(base)}")
    print(f"ratio renewal / baseline: x{total / base:.1f}")


if __name__ == "__main__":
    main()
