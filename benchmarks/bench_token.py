"""Server-side login token validation rate against the floor of the one RSA operation it
cannot avoid, measured in the same run.

A token validation parses and size-checks the JSON, takes the challenge from the store,
parses the certificate, verifies the token signature (RSA-2048 PKCS#1 v1.5), then runs
the project's CertificateValidator: chain to the auth CA (a second RSA verification),
kind fitness, and revocation answered from a verified CRL held in jpki.validation's
CrlStore index. The floor is one bare RSA-2048 PKCS#1 v1.5 SHA-256 verification with
cryptography. Goal: validation rate >= 1/3 of the floor's rate.

    .venv/bin/python benchmarks/bench_token.py [--tokens N] [--floor N]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from jpki.auth import AuthTokenValidator, InMemoryChallengeStore, create_auth_token
from jpki.constants import CertKind
from jpki.validation import (
    CertificateValidator,
    CrlStore,
    RevocationChecker,
    RevocationPolicy,
    TrustStore,
)
from simulators.personas import get_persona
from simulators.pki import TestPki

ORIGIN = "https://portal.example.jp"


class SoftwareSigner:
    """The card's arithmetic without the card: tokens are made before timing starts."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
        self.key = key
        self.certificate = certificate

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def floor_rate(key: rsa.RSAPrivateKey, count: int, rounds: int) -> float:
    public = key.public_key()
    digest = hashlib.sha256(b"floor").digest()
    signature = key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            public.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        best = min(best, time.perf_counter() - start)
    return count / best


def crl_index_validator(pki: TestPki, now: datetime) -> CertificateValidator:
    """The real validator with revocation from CRLs only, verified and indexed into a
    CrlStore up front (as a service holds them between daily downloads)."""
    trust = TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])
    store = CrlStore()
    for kind in ("auth", "sign"):
        for partition in pki.partitions(kind):
            store.load(pki.crl(kind, partition, now=now), trust, at=now)
    revocation = RevocationChecker(RevocationPolicy(sources=("crl",)), crl_store=store)
    return CertificateValidator(trust, revocation=revocation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floor", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPki.open_or_create(Path(tmp) / "pki")
        persona = get_persona("yamada-taro")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # One certificate per token (the same key pair certified many times, to keep
        # key generation out of the set-up): a validator cache cannot make it look fast.
        certificates = [
            pki.issue_card(persona, key.public_key(), key.public_key()).auth_cert
            for _ in range(args.tokens)
        ]
        # Some revoked cards, so the CRL index is not empty.
        for _ in range(50):
            other = pki.issue_card(persona, key.public_key(), key.public_key())
            pki.revoke_card(_serial(other.auth_cert), "loss")

        now = datetime.now(UTC) + timedelta(seconds=5)
        checker = crl_index_validator(pki, now)
        store = InMemoryChallengeStore(clock=lambda: now)
        validator = AuthTokenValidator(checker, store, ORIGIN, clock=lambda: now)
        # Best of several rounds for each measurement, interleaved, so load from other
        # processes on the machine skews neither side alone.
        token_s, path_s = [], []
        for _ in range(args.rounds):
            work = []
            for i, certificate in enumerate(certificates):
                challenge = store.issue(f"session-{i}", ORIGIN)
                token = create_auth_token(SoftwareSigner(key, certificate), ORIGIN, challenge.nonce)
                work.append((token.to_json(), challenge.session_id, challenge.nonce))
            start = time.perf_counter()
            for token_json, session_id, nonce in work:
                result = validator.validate(token_json, session_id, nonce)
            token_s.append(time.perf_counter() - start)
            assert result.record.revocation_source == "crl"
            # The same certificates through the path validator alone: where the time goes.
            start = time.perf_counter()
            for certificate in certificates:
                checker.validate(certificate, CertKind.AUTH, at=now)
            path_s.append(time.perf_counter() - start)
        elapsed = min(token_s)
        path_us = min(path_s) / args.tokens * 1e6
        token_rate = args.tokens / elapsed

    floor = floor_rate(key, args.floor, args.rounds)
    ratio = token_rate / floor
    each_us = elapsed / args.tokens * 1e6
    print(
        f"token validation (CRL index revocation): {token_rate:9.0f} tokens/s "
        f"({each_us:.0f} us each, {args.tokens} tokens, {args.tokens} distinct certificates)"
    )
    print(
        f"  of which path validation (CertificateValidator): {path_us:.0f} us, "
        f"token side (JSON, challenge, signature): {each_us - path_us:.0f} us"
    )
    print(
        f"floor: bare RSA-2048 PKCS#1 verify      : {floor:9.0f} verifies/s "
        f"({1e6 / floor:.0f} us each)"
    )
    print(
        f"ratio: {ratio:.2f} of the floor (goal >= 0.33) -> "
        f"{'met' if ratio >= 1 / 3 else 'NOT met'}"
    )


def _serial(der: bytes) -> int:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).serial_number


if __name__ == "__main__":
    main()
