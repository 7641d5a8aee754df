"""Shared helpers for the test-PKI tests (imported by the test_pki_* modules).

RSA-2048 generation is the slow part: each module makes one PKI of its own (about a
third of a second; not the session-wide `pki_dir`, which other tests fill with cards and
revocations) and copies it per test; card keys come from a small process-wide cache.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from simulators.personas import Persona, get_persona
from simulators.pki import PkiServer, TestPki, serve
from tests.conftest import REAL_JPKI_DIR

REAL_DIR = REAL_JPKI_DIR  # copies of the public J-LIS certificates, in the repository


@functools.cache
def card_key(index: int = 0) -> rsa.RSAPrivateKey:
    """A few RSA-2048 card keys for the whole test run (certifying a key twice is fine)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def copy_pki(source: Path, target: Path) -> TestPki:
    shutil.copytree(source, target)
    return TestPki.open(target)


@pytest.fixture(scope="module")
def clean_pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI no test has issued from, made once per module and never mutated."""
    directory = tmp_path_factory.mktemp("clean-pki") / "pki"
    TestPki.create(directory)
    return directory


@pytest.fixture
def pki(clean_pki_dir: Path, tmp_path: Path) -> TestPki:
    """A private copy of a clean PKI, free to mutate."""
    return copy_pki(clean_pki_dir, tmp_path / "pki")


@pytest.fixture
def served_pki(pki: TestPki) -> Iterator[tuple[TestPki, PkiServer]]:
    """The copy, served on a free port that its base URL (and so every certificate
    issued from now on) names."""
    with serve(pki, port=0) as server:
        pki.set_base_url(server.url)
        yield pki, server


def issue(
    pki: TestPki,
    persona_id: str = "yamada-taro",
    *,
    now: dt.datetime | None = None,
    generation: str | None = None,
) -> tuple[x509.Certificate, x509.Certificate]:
    persona: Persona = get_persona(persona_id)
    issued = pki.issue_card(
        persona,
        card_key(0).public_key(),
        card_key(1).public_key(),
        now=now,
        generation=generation,
    )
    return (
        x509.load_der_x509_certificate(issued.auth_cert),
        x509.load_der_x509_certificate(issued.sign_cert),
    )


def write_pem(path: Path, *items: bytes | x509.Certificate) -> Path:
    """Write certificates (objects or DER) as one PEM file."""
    blobs = []
    for item in items:
        cert = item if isinstance(item, x509.Certificate) else x509.load_der_x509_certificate(item)
        blobs.append(cert.public_bytes(Encoding.PEM))
    path.write_bytes(b"".join(blobs))
    return path


def write_crl_pem(path: Path, der: bytes) -> Path:
    crl = x509.load_der_x509_crl(der)
    path.write_bytes(crl.public_bytes(Encoding.PEM))
    return path


def openssl(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is required for these tests")
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=check
    )


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
