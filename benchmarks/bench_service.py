"""Service under load, over real HTTP on loopback: 32 concurrent kiosk logins spread over
8 software-card readers while 2 counters issue new cards on their own readers.

Checks (exit 1 if any fails): every login ends in success with the right person's
portal symbol (a busy reader answers READER_BUSY at once and the kiosk client retries),
every issuance is linked exactly once, the registry holds exactly the expected cards,
the audit chain verifies, and nothing deadlocks (all clients finish within a bound).
Prints p50/p99 latencies and the ratio to a single uncontended login measured in the
same run (the baseline).

    .venv/bin/python benchmarks/bench_service.py [--logins 32] [--issuances 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from jpki.constants import CertKind
from jpki.jpki_ap import JpkiSession
from jpki.mynumber import MyNumber
from jpki.mynumber import complete as complete_my_number
from simulators.card import SoftwareCard
from simulators.core.config import Agency, CoreConfig, token_sha256
from simulators.core.core import SymbolCore
from simulators.core.register import ResidentRecord, ResidentRegister
from simulators.core.resident_code import complete as complete_resident_code
from simulators.personas import Persona, load_personas
from simulators.pki import TestPki
from terminal.audit.trail import Operator
from terminal.db.engine import open_store
from terminal.dev.core_client import InProcessCoreClient
from terminal.dev.local import attach_local_validation
from terminal.dev.slots import add_software_reader
from terminal.dev.wing import DevWing
from terminal.linkage import CertInfo, PersonRef
from terminal.linkage.core_client import symbols_for_issuance
from terminal.service import Settings, create_app
from terminal.service.context import ServiceContext
from terminal.service.parts import attach_registry
from terminal.service.security import hash_password
from terminal.service.settings import OperatorAccount, Role

KIOSK_READERS = 8
COUNTERS = 2
AGENCY = "city-bench"
DEADLINE_SECONDS = 300


def persona_variant(base: Persona, index: int, register: ResidentRegister) -> Persona:
    """A distinct resident (own resident code and My Number, so own symbols) from a
    persona template, entered on the core's resident register."""
    variant = dataclasses.replace(
        base,
        id=f"bench-{index}",
        resident_code=complete_resident_code(f"{2000000000 + index}"),
        my_number=MyNumber(complete_my_number(f"{80000000000 + index}")),
    )
    register.add(
        ResidentRecord(
            variant.resident_code,
            variant.name,
            variant.birth_date,
            variant.sex,
            variant.address,
            variant.my_number,
        )
    )
    return variant


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def build(workdir: Path, issuances: int) -> tuple[Any, ServiceContext, dict[str, Any], str]:
    pki = TestPki.open_or_create(workdir / "pki")
    password = secrets.token_urlsafe(16)
    settings = Settings(
        session_secret=secrets.token_urlsafe(40),
        # Outside dev the settings refuse the local test PKI as trust; the test PKI's
        # validator is attached below, as the dev wing does.
        trust="jpki-production",
        operators=[
            OperatorAccount(
                username="clerk", password_hash=hash_password(password), roles=[Role.CLERK]
            ),
            OperatorAccount(
                username="kiosk", password_hash=hash_password(password), roles=[Role.KIOSK]
            ),
        ],
    )
    app = create_app(settings, extensions=[DevWing()])
    ctx: ServiceContext = app.state.ctx
    attach_local_validation(ctx, pki)
    token = secrets.token_urlsafe(16)
    core = SymbolCore(
        CoreConfig(
            secrets.token_bytes(32),
            (Agency("portal", "portal"), Agency(AGENCY, AGENCY, resident_lookup=True)),
            {token_sha256(token): AGENCY},
        ),
        register=ResidentRegister(),
    )
    store = open_store(f"sqlite:///{workdir / 'terminal.db'}")
    attach_registry(ctx, store, InProcessCoreClient(core, token))
    ctx.closers.extend([store.close, core.close])

    templates = [p for p in load_personas() if p.sign_certificate]  # the counter gives a sign PIN
    expected: dict[str, Any] = {"kiosk": {}, "counter": {}}
    started = time.perf_counter()
    for index in range(KIOSK_READERS):
        persona = persona_variant(templates[index % len(templates)], index, core.register)
        card = SoftwareCard.create(persona, pki)
        reader = add_software_reader(ctx.readers, f"Kiosk Reader {index}")
        ctx.readers.insert_software_card(reader.id, card)
        with ctx.readers.session(reader.id, "bench-setup") as session:
            auth = JpkiSession(session.channel).read_certificate(CertKind.AUTH)
        symbols = symbols_for_issuance(ctx.core, persona.resident_code)  # type: ignore[arg-type]
        ctx.registry.issue(  # type: ignore[union-attr]
            PersonRef(), CertInfo.from_der(auth), None, symbols, Operator("bench", "bench")
        )
        expected["kiosk"][reader.id] = (persona, symbols["portal"])
    for counter in range(COUNTERS):
        reader = add_software_reader(ctx.readers, f"Counter Reader {counter}")
        cards = []
        for number in range(issuances):
            persona = persona_variant(
                templates[number % len(templates)], 100 + counter * 50 + number, core.register
            )
            cards.append((persona, SoftwareCard.create(persona, pki)))
        expected["counter"][reader.id] = cards
    print(
        f"setup: {KIOSK_READERS + COUNTERS * issuances} cards "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return app, ctx, expected, password


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def sign_in(base: str, username: str, password: str) -> dict[str, str]:
    with httpx.Client(base_url=base, headers={"Origin": base}) as http:
        token = http.post("/api/session", json={"username": username, "password": password})
        return {"Authorization": f"Bearer {token.json()['token']}", "Origin": base}


def kiosk_login(
    base: str, headers: dict[str, str], reader: str, pin: str
) -> tuple[float, int, dict[str, Any]]:
    """One resident's login; a busy reader is retried (as the kiosk page would)."""
    busy = 0
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while time.perf_counter() - started < DEADLINE_SECONDS:
            response = http.post(f"/api/readers/{reader}/login", json={"pin": pin})
            body = response.json()
            if response.status_code == 409 and body["error"]["code"] == "READER_BUSY":
                busy += 1
                time.sleep(0.005)
                continue
            return time.perf_counter() - started, busy, {**body, "http": response.status_code}
    return time.perf_counter() - started, busy, {"http": 0, "error": "deadline"}


def counter_issuances(
    base: str,
    headers: dict[str, str],
    ctx: ServiceContext,
    reader: str,
    cards: list[tuple[Persona, SoftwareCard]],
) -> list[tuple[float, dict[str, Any]]]:
    results = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for persona, card in cards:
            ctx.readers.insert_software_card(reader, card)
            started = time.perf_counter()
            response = http.post(
                "/api/issuance",
                json={
                    "reader_id": reader,
                    "resident_code": persona.resident_code,
                    "auth_pin": persona.pins.auth,
                    "sign_pin": persona.pins.sign,
                    "face_to_face_confirmed": True,
                },
            )
            results.append(
                (time.perf_counter() - started, {**response.json(), "http": response.status_code})
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=32)
    parser.add_argument("--issuances", type=int, default=4, help="per counter")
    args = parser.parse_args()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        app, ctx, expected, password = build(Path(tmp), args.issuances)
        server, thread, base = serve(app)
        try:
            kiosk_headers = sign_in(base, "kiosk", password)
            clerk_headers = sign_in(base, "clerk", password)
            readers = sorted(expected["kiosk"])
            first_persona = expected["kiosk"][readers[0]][0]
            baseline = []
            for _ in range(5):
                seconds, _, body = kiosk_login(
                    base, kiosk_headers, readers[0], first_persona.pins.auth
                )
                if body["http"] != 200:
                    failures.append(f"baseline login failed: {body}")
                baseline.append(seconds)
            base_p50 = statistics.median(baseline)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.logins + COUNTERS) as pool:
                counters = {
                    reader: pool.submit(counter_issuances, base, clerk_headers, ctx, reader, cards)
                    for reader, cards in expected["counter"].items()
                }
                logins = []
                for index in range(args.logins):
                    reader = readers[index % len(readers)]
                    persona = expected["kiosk"][reader][0]
                    logins.append(
                        (
                            reader,
                            pool.submit(
                                kiosk_login, base, kiosk_headers, reader, persona.pins.auth
                            ),
                        )
                    )
                login_results = [
                    (reader, future.result(timeout=DEADLINE_SECONDS)) for reader, future in logins
                ]
                issue_results = {r: f.result(timeout=DEADLINE_SECONDS) for r, f in counters.items()}
            wall = time.perf_counter() - started
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            if thread.is_alive():
                failures.append("the server did not stop: deadlock?")

        login_times, busy_total = [], 0
        for reader, (seconds, busy, body) in login_results:
            login_times.append(seconds)
            busy_total += busy
            _persona, portal = expected["kiosk"][reader]
            if body["http"] != 200:
                failures.append(f"login on reader {reader} failed: {body}")
            elif body["portal_symbol_hint"] != "*" * 8 + portal[-4:]:
                failures.append(f"login on reader {reader} resolved to another person")
        issue_times, serials, persons = [], [], []
        for reader, results in issue_results.items():
            for seconds, body in results:
                issue_times.append(seconds)
                if body["http"] != 200:
                    failures.append(f"issuance on reader {reader} failed: {body}")
                    continue
                serials.extend(c["serial"] for c in body["certificates"])
                persons.append(body["person_id"])
        if len(set(serials)) != len(serials):
            failures.append("a serial was linked twice")
        if len(set(persons)) != len(persons):
            failures.append("two issuances landed on one person")
        total_cards = KIOSK_READERS + COUNTERS * args.issuances
        linked = 0
        for body in (
            b for results in issue_results.values() for _, b in results if b["http"] == 200
        ):
            view = ctx.registry.person(body["person_id"])  # type: ignore[union-attr]
            linked += len({c.card_id for c in view.certificates})
        if linked != COUNTERS * args.issuances:
            failures.append(
                f"expected {COUNTERS * args.issuances} issued cards, registry has {linked}"
            )
        report = ctx.audit.verify()  # type: ignore[union-attr]
        if not report.ok:
            failures.append(f"audit chain broken: {report}")

    p50, p99 = percentile(login_times, 0.5), percentile(login_times, 0.99)
    print(f"baseline (one login, no contention): p50 {base_p50 * 1000:.0f} ms")
    print(
        f"{args.logins} concurrent kiosk logins on {KIOSK_READERS} readers + {COUNTERS} counters "
        f"issuing {COUNTERS * args.issuances} cards: wall {wall:.1f} s"
    )
    print(
        f"  login    p50 {p50 * 1000:.0f} ms  p99 {p99 * 1000:.0f} ms  "
        f"(x{p50 / base_p50:.1f} / x{p99 / base_p50:.1f} baseline), "
        f"READER_BUSY answers {busy_total}"
    )
    print(
        f"  issuance p50 {percentile(issue_times, 0.5) * 1000:.0f} ms  "
        f"p99 {percentile(issue_times, 0.99) * 1000:.0f} ms"
    )
    print(f"  cards in total {total_cards}; audit records verified: {report.records}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("no lost or duplicated links, no deadlock")
    return 0


if __name__ == "__main__":
    sys.exit(main())
