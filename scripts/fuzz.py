"""Long fuzz run over every parser of untrusted input; reports per parser the inputs
tried, crashes (an exception outside the parser's typed errors), hangs (an input that
took longer than the per-input bound) and wrong verdicts (a changed signed object that
came out "valid" / "good" / accepted).

    PYTHONPATH=. nice -n 19 python scripts/fuzz.py --inputs 100000 [--only cms,crl]

Deterministic for a given --seed. Inputs are random bytes (half shaped like a DER
SEQUENCE) and mutations of a genuine object (bit flips, byte overwrites, inserts,
deletes, truncation, and splices of a random DER header), as tests/jpki/fuzzing.py
does for the CI suite, without hypothesis so that a million inputs stay affordable.
The first crashing input of each kind is written under --out for a regression test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Hang(Exception):
    """The per-input time bound passed."""


class WrongVerdict(Exception):
    """A changed signed object was accepted."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


# --- inputs ---------------------------------------------------------------------------


def mutate(rng: random.Random, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.3:
            data[i] ^= 1 << rng.randrange(8)
        elif op < 0.55:
            data[i] = rng.randrange(256)
        elif op < 0.7:
            data[i:i] = rng.randbytes(rng.randint(1, 4))
        elif op < 0.85:
            del data[i : i + rng.randint(1, 4)]
        elif op < 0.92:
            del data[i:]
        else:  # a plausible DER header in the middle of things
            data[i:i] = bytes([rng.choice([0x02, 0x03, 0x04, 0x06, 0x30, 0x31, 0xA0, 0x17])])
            data[i + 1 : i + 1] = bytes([rng.choice([0x00, 0x01, 0x7F, 0x81, 0x82, 0x84])])
    out = bytes(data)
    return out if out != original else original + b"\x00"


def garbage(rng: random.Random) -> bytes:
    body = rng.randbytes(rng.randint(0, 300))
    kind = rng.randrange(3)
    if kind == 0:
        return body
    if kind == 1:
        return b"\x30" + bytes([min(len(body), 127)]) + body
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


@dataclass
class Target:
    name: str
    # (input) -> None; raises one of `typed` for a refusal, WrongVerdict for a bad pass
    check: Callable[[bytes], None]
    typed: tuple[type[BaseException], ...]
    originals: list[bytes]
    tried: int = 0
    crashes: Counter[str] = field(default_factory=Counter)
    hangs: int = 0
    wrong: int = 0
    seconds: float = 0.0
    slowest: float = 0.0


# --- targets --------------------------------------------------------------------------


def build_targets(work: Path) -> list[Target]:
    from cryptography import x509

    from card.apdu import CommandApdu, decode_command, parse_response
    from card.errors import CardError
    from card.protocol import CardChannel
    from card.tlv import TlvError, iter_tlvs
    from jpki.auth import TokenMalformedError, parse_auth_token
    from jpki.basic_facts import basic_four_if_present
    from jpki.cardinfo_ap import parse_basic_four, parse_integrity, parse_my_number
    from jpki.cms import CmsError, sign_cms, verify_cms
    from jpki.constants import KeyKind
    from jpki.validation import (
        CertificateValidator,
        CrlError,
        CrlStore,
        OcspClient,
        OcspError,
        RevocationPolicy,
        TrustStore,
        ValidationError,
    )
    from jpki.validation.crlindex import CrlIndex, IndexFileError
    from simulators.card import SoftwareCard
    from simulators.card.contents import basic_four_record, my_number_record
    from simulators.personas import get_persona
    from simulators.pki import TestPki
    from tests.jpki.conftest import NOW, build_pki, der, partition_name
    from tests.jpki.test_auth_token_support import open_card, trust_store

    auth = build_pki("auth")
    trust = TrustStore(auth.anchors)
    anchor = trust.anchors[0]
    cert_der = der(auth.issue())
    validator = CertificateValidator(trust, RevocationPolicy(mode="soft-fail"))
    partition = partition_name("auth", "Tsukuba-shi")
    crl = auth.crl(
        revoked=[(s, NOW - timedelta(days=s), x509.ReasonFlags.key_compromise) for s in (1, 2, 3)],
        number=3,
    )
    ocsp_cert = auth.issue()
    nonce = b"n" * 32
    ocsp_good = auth.ocsp_response(ocsp_cert, nonce=nonce)
    ocsp_delegated = auth.ocsp_response(ocsp_cert, nonce=nonce, responder=auth.responder())
    ocsp_client = OcspClient(cache=False)
    index_key = b"fuzz-crl-index-key-0123456789abc"
    store = CrlStore(None)
    store.load(crl, trust, partition=partition, at=NOW)
    index_file = store.index(partition).to_bytes(index_key)

    pki = TestPki.open_or_create(work / "pki")
    persona = get_persona("yamada-taro")
    card = open_card(SoftwareCard.create(persona, pki), persona)
    signer = card.signer(KeyKind.SIGN)
    content = b"application form\n" * 20
    signature = sign_cms(content, signer)
    cms_checker = CertificateValidator(trust_store(pki), RevocationPolicy(mode="soft-fail"))
    sign_cert = signer.certificate
    later = datetime.now(UTC) + timedelta(minutes=1)
    token_json = json.dumps(
        {
            "format": "mynaterm-auth-token:1",
            "algorithm": "RS256",
            "certificate": "MAMCAQE=",
            "signature": "AAEC",
            "terminalVersion": "fuzz",
        }
    ).encode()

    def cert_check(data: bytes) -> None:
        validator.validate(data, "auth", at=NOW)
        if data != cert_der:
            raise WrongVerdict

    def crl_check(data: bytes) -> None:
        CrlStore(None).load(data, trust, partition=partition, at=NOW)
        if data != crl:
            raise WrongVerdict

    def crlindex_check(data: bytes) -> None:
        CrlIndex.from_bytes(data, index_key)
        if data != index_file:
            raise WrongVerdict

    def ocsp_check(data: bytes) -> None:
        answer = ocsp_client.verify(data, ocsp_cert, anchor, nonce=nonce, at=NOW)
        if answer.status == "good" and data not in (ocsp_good, ocsp_delegated):
            raise WrongVerdict

    def cms_check(data: bytes) -> None:
        try:
            verify_cms(content, data, cms_checker, at=later)
        except ValidationError:
            return  # e.g. INVALID_INSTANT: typed too
        if data != signature:
            raise WrongVerdict

    def basic_four_check(data: bytes) -> None:
        basic_four_if_present(data)  # its contract: the facts or None, never raises

    def token_check(data: bytes) -> None:
        parse_auth_token(data)

    def cardinfo_check(data: bytes) -> None:
        for parse in (parse_my_number, parse_basic_four, parse_integrity):
            with contextlib.suppress(CardError):
                parse(data)

    def tlv_check(data: bytes) -> None:
        list(iter_tlvs(data))

    class Hostile:
        """A card connection answering from the fuzzed bytes: (len, data..., sw) runs."""

        extended_length = False

        def __init__(self, data: bytes) -> None:
            self.data = data
            self.pos = 0

        def transmit(self, apdu: bytes) -> tuple[bytes, int]:
            if self.pos + 3 > len(self.data):
                return b"", 0x9000
            n = self.data[self.pos] % 64
            chunk = self.data[self.pos + 1 : self.pos + 1 + n]
            self.pos += 1 + n
            sw = int.from_bytes(self.data[self.pos : self.pos + 2].ljust(2, b"\x90"), "big")
            self.pos += 2
            return chunk, sw

    def apdu_check(data: bytes) -> None:
        with contextlib.suppress(CardError):
            parse_response(data)
        with contextlib.suppress(CardError):
            decode_command(data)
        channel = CardChannel(Hostile(data))
        channel.transmit(CommandApdu(0, 0xB0, 0, 0, b"", 256))
        channel.transmit(CommandApdu(0, 0xA4, 4, 0x0C, b"\xd3\x92\x10\x00\x31"))

    def settings_check(data: bytes) -> None:
        import pydantic

        from terminal.service.settings import InsecureSettingsError, Settings

        try:
            values = json.loads(data)
        except (ValueError, RecursionError):
            return
        if not isinstance(values, dict):
            return
        with contextlib.suppress(pydantic.ValidationError, InsecureSettingsError):
            Settings(**values)

    settings_original = json.dumps(
        {
            "dev": False,
            "session_secret": "s" * 10 + "Q9v7x2LmN4pR8tY1wZ6bC3dF5gH0jK",
            "allowed_origins": ["https://counter.example"],
            "allowed_hosts": ["counter.example"],
            "session_ttl_seconds": 3600,
            "operators": [],
            "simulator_controls": False,
        }
    ).encode()
    from terminal.service.security import OperatorDirectory, SessionRefused
    from terminal.service.settings import OperatorAccount, Role

    account = OperatorAccount(
        username="op",
        password_hash="scrypt$x",  # noqa: S106 - a hash never checked here
        roles=[Role.ADMIN],
    )
    directory = OperatorDirectory([account], b"k" * 32, 3600)
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    session_token, _ = directory.issue(account, now=issued_at)

    def session_check(data: bytes) -> None:
        token = data.decode("latin-1")
        directory.resolve(token, now=issued_at + timedelta(seconds=1))
        if token != session_token:
            raise WrongVerdict

    return [
        Target("session-tokens", session_check, (SessionRefused,), [session_token.encode()]),
        Target("apdu-responses", apdu_check, (CardError,), [bytes.fromhex("6110") + bytes(20)]),
        Target("tlv", tlv_check, (TlvError,), [bytes.fromhex("5F1F03414243")]),
        Target(
            "card-info-records",
            cardinfo_check,
            (CardError,),
            [my_number_record(persona), basic_four_record(persona)],
        ),
        Target("certificates", cert_check, (ValidationError,), [cert_der]),
        Target("crls", crl_check, (CrlError,), [crl]),
        Target("crl-index-files", crlindex_check, (IndexFileError,), [index_file]),
        Target("ocsp-responses", ocsp_check, (OcspError,), [ocsp_good, ocsp_delegated]),
        Target("cms-signatures", cms_check, (CmsError,), [signature]),
        Target("certificate-basic-four", basic_four_check, (), [sign_cert]),
        Target("auth-tokens", token_check, (TokenMalformedError,), [token_json]),
        Target("settings", settings_check, (), [settings_original]),
    ]


# --- run ------------------------------------------------------------------------------


def run(target: Target, inputs: int, rng: random.Random, bound: float, out: Path) -> None:
    started = time.process_time()
    for _ in range(inputs):
        data = mutate(rng, rng.choice(target.originals)) if rng.random() < 0.8 else garbage(rng)
        target.tried += 1
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, bound)
        try:
            target.check(data)
        except Hang:
            target.hangs += 1
            (out / f"{target.name}-hang-{target.hangs}.bin").write_bytes(data)
        except WrongVerdict:
            target.wrong += 1
            (out / f"{target.name}-wrong-{target.wrong}.bin").write_bytes(data)
        except target.typed:
            pass
        except Exception as exc:
            kind = f"{type(exc).__name__}: {str(exc)[:80]}"
            if not target.crashes[kind]:
                (out / f"{target.name}-crash-{len(target.crashes)}.bin").write_bytes(data)
            target.crashes[kind] += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        target.slowest = max(target.slowest, time.perf_counter() - t0)
    target.seconds = time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per parser")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--bound", type=float, default=5.0, help="seconds per input")
    parser.add_argument("--only", default="", help="comma-separated parser names")
    parser.add_argument("--out", type=Path, default=Path("var/fuzz"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        targets = build_targets(Path(tmp))
        wanted = {n for n in args.only.split(",") if n}
        print(
            f"{'parser':24} {'inputs':>9} {'crashes':>8} {'hangs':>6} {'wrong':>6} "
            f"{'CPU s':>8} {'us/input':>9} {'slowest s':>9}",
            flush=True,
        )
        total_bad = 0
        for target in targets:
            if wanted and target.name not in wanted:
                continue
            run(
                target,
                args.inputs,
                random.Random(f"{args.seed}:{target.name}"),  # noqa: S311 - reproducible inputs
                args.bound,
                args.out,
            )
            bad = sum(target.crashes.values()) + target.hangs + target.wrong
            total_bad += bad
            print(
                f"{target.name:24} {target.tried:9,} {sum(target.crashes.values()):8} "
                f"{target.hangs:6} {target.wrong:6} {target.seconds:8.1f} "
                f"{target.seconds / max(1, target.tried) * 1e6:9.0f} {target.slowest:9.2f}",
                flush=True,
            )
            for kind, count in target.crashes.most_common():
                print(f"    crash x{count}: {kind}", flush=True)
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
