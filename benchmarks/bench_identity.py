"""What the identity binding (issue 10) costs at the counter.

1. The core's match operation against its baseline in the same run: `person_symbols`
   for the same resident (two HMACs and an index write), per call, p50/p99.
2. A counter card read (terminal.counter.cardread.read_card: auth-key proof, sign
   certificate, validation) with and without the card-info applet, against the baseline
   of the same read on the same software card without the identity sources (auth PIN +
   proof only is not allowed by the use case, so the baseline is the sign-certificate
   read alone and the ratio is what the card-info applet adds).

    python benchmarks/bench_identity.py [--rounds 200] [--reads 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from card.protocol import CardChannel
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.core.config import Agency, CoreConfig, token_sha256
from simulators.core.core import SymbolCore
from simulators.core.register import IdentityClaim
from simulators.personas import get_persona
from simulators.pki import TestPki
from terminal.counter import CardPins
from terminal.counter.cardread import read_card
from terminal.db import open_store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageRegistry
from tests.flows.counter_world import counter_context


def timed(func: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(label: str, values: list[float], baseline: float | None = None) -> float:
    p50 = statistics.median(values)
    p99 = sorted(values)[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    ratio = f"  (x{p50 / baseline:.2f} baseline)" if baseline else ""
    print(f"  {label:<44} p50 {p50:8.3f} ms  p99 {p99:8.3f} ms{ratio}")
    return p50


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--reads", type=int, default=10)
    args = parser.parse_args()
    taro = get_persona("yamada-taro")
    core = SymbolCore(
        CoreConfig(
            b"\x61" * 32,
            (Agency("portal", "portal"), Agency("city", "city", resident_lookup=True)),
            {token_sha256("tok"): "city"},
        )
    )
    claim = IdentityClaim(
        name=taro.name,
        birth_date=taro.birth_date.strftime("%Y%m%d"),
        sex=taro.sex,
        address=taro.address,
        my_number=taro.my_number.reveal(),
    )
    print("symbol core (in process):")
    base = report(
        "person_symbols (baseline)",
        timed(
            lambda: core.person_symbols(taro.resident_code, ["portal"], caller="city"), args.rounds
        ),
    )
    report(
        "match_identity by resident code",
        timed(
            lambda: core.match_identity(claim, caller="city", resident_code=taro.resident_code),
            args.rounds,
        ),
        base,
    )

    workdir = Path(tempfile.mkdtemp(prefix="bench-identity-"))
    try:
        pki = TestPki.open_or_create(workdir / "pki")
        store = open_store(f"sqlite:///{workdir / 'terminal.db'}")
        ctx = counter_context(pki, LinkageRegistry(store), core=InProcessCoreClient(core, "tok"))
        card = SoftwareCard.create(taro, pki)
        channel = CardChannel(SoftwareCardConnection(card))
        sign_only = CardPins(taro.pins.auth, taro.pins.sign)
        with_info = CardPins(taro.pins.auth, taro.pins.sign, taro.pins.cardinfo)
        read_card(channel, ctx, sign_only)  # warm the validator's caches
        print(f"counter card read (software card, {args.reads} reads):")
        base = report(
            "auth proof + sign certificate (baseline)",
            timed(lambda: read_card(channel, ctx, sign_only), args.reads),
        )
        report(
            "... + card-info facts and My Number",
            timed(lambda: read_card(channel, ctx, with_info), args.reads),
            base,
        )
        store.close()
    finally:
        core.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
