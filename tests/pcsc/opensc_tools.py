"""OpenSC 0.23 (its own JPKI driver) as a second client of the software card, for the
tests in this folder: running its tools, signing with the card's auth key through
pkcs11-tool, and checking such a signature against a certificate."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card.pcsc import open_reader
from card.protocol import CardChannel
from tests.conftest import require_or_skip

PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
OPENSC_ENV = {**os.environ, "OPENSC_DRIVER": "jpki"}


def require_opensc() -> None:
    require_or_skip(
        shutil.which("pkcs15-tool") is not None and Path(PKCS11_MODULE).exists(),
        "OpenSC is not installed (apt-get install opensc)",
    )


def opensc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, env=OPENSC_ENV, timeout=60, check=False
    )


def pkcs11_login(pin: str, *action: str) -> subprocess.CompletedProcess[str]:
    """pkcs11-tool on the first slot, logged in with `pin`, doing `action`."""
    return opensc(
        "pkcs11-tool",
        "--module",
        PKCS11_MODULE,
        "--slot-index",
        "0",
        "--login",
        "--pin",
        pin,
        *action,
    )


def opensc_sign(
    pin: str, message: Path | str, signature: Path | str
) -> subprocess.CompletedProcess[str]:
    """pkcs11-tool logs in with `pin` and signs `message` (SHA256-RSA-PKCS) with the
    auth key (id 01) into `signature`."""
    return pkcs11_login(
        pin,
        "--sign",
        "--mechanism",
        "SHA256-RSA-PKCS",
        "--id",
        "01",
        "-i",
        str(message),
        "-o",
        str(signature),
    )


def verify_signature(certificate: bytes, signature: Path, message: Path) -> None:
    """Raises InvalidSignature unless the certificate's RSA key signed the message
    (PKCS#1 v1.5, SHA-256)."""
    key = x509.load_der_x509_certificate(certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256())


def project_channel(reader: str) -> CardChannel:
    # Short APDUs, as card.pcsc chooses by itself for this ATR (and as OpenSC reads).
    return CardChannel(open_reader(reader, timeout=5))
