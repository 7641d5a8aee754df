"""Test PKI costs, against baselines measured in the same run: creating a PKI against the
raw RSA-2048 key generations it needs, issuing a card against the two raw RSA signatures
it needs, CRL and OCSP answers against one raw RSA signature, and OCSP over HTTP against
the in-process answer.

    .venv/bin/python benchmarks/bench_pki.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import load_der_x509_certificate, ocsp

from simulators.personas import get_persona
from simulators.pki import TestPki, serve


def timed(action: Callable[[], object], rounds: int) -> float:
    """Median wall time in milliseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    work = Path(tempfile.mkdtemp(prefix="bench-pki-"))
    rows: list[tuple[str, float, str, float]] = []

    keygen = timed(lambda: rsa.generate_private_key(65537, 2048), max(3, rounds // 4))
    counter = iter(range(10_000))
    create = timed(lambda: TestPki.create(work / f"pki{next(counter)}"), max(2, rounds // 10))
    rows.append(("create PKI (6 keys)", create, "6 x RSA-2048 keygen", 6 * keygen))

    pki = TestPki.open(work / "pki0")
    rows.append(("open PKI", timed(lambda: TestPki.open(pki.directory), rounds), "-", 0.0))

    key = rsa.generate_private_key(65537, 2048)
    persona = get_persona("yamada-taro")
    sign_once = timed(lambda: key.sign(b"x" * 500, padding.PKCS1v15(), hashes.SHA256()), rounds)
    issue = timed(lambda: pki.issue_card(persona, key.public_key(), key.public_key()), rounds)
    rows.append(("issue_card (2 certs)", issue, "2 x RSA sign", 2 * sign_once))

    issued = pki.issue_card(persona, key.public_key(), key.public_key())
    auth = load_der_x509_certificate(issued.auth_cert)
    pki.revoke(auth.serial_number, "loss")
    rows.append(
        (
            "crl fresh (signed)",
            timed(lambda: pki.crl("auth", "Tokyo/Chiyoda-ku", fresh=True), rounds),
            "1 x RSA sign",
            sign_once,
        )
    )
    rows.append(
        (
            "crl cached",
            timed(lambda: pki.crl("auth", "Tokyo/Chiyoda-ku"), rounds),
            "1 x RSA sign",
            sign_once,
        )
    )
    ca = load_der_x509_certificate(pki.ca_certificate("auth"))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(auth, ca, hashes.SHA256())
        .build()
        .public_bytes(Encoding.DER)
    )
    in_process = timed(lambda: pki.ocsp_response(request, kind="auth"), rounds)
    rows.append(("ocsp_response", in_process, "1 x RSA sign", sign_once))
    with serve(pki, port=0) as server, httpx.Client() as client:
        url = f"{server.url}/ocsp/auth"
        over_http = timed(
            lambda: client.post(
                url, content=request, headers={"Content-Type": "application/ocsp-request"}
            ),
            rounds,
        )
    rows.append(("OCSP over HTTP", over_http, "ocsp_response in process", in_process))

    print(f"{'operation':28} {'ms':>9}   {'baseline':26} {'ms':>9} {'ratio':>7}")
    for name, value, baseline_name, baseline in rows:
        ratio = f"{value / baseline:7.2f}" if baseline else "      -"
        print(f"{name:28} {value:9.2f}   {baseline_name:26} {baseline:9.2f} {ratio}")


if __name__ == "__main__":
    main()
