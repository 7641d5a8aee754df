"""OpenSC 0.23 (its own JPKI driver) as an independent client of the software card
through pcscd: it must list and read the certificates, sign with the auth key, and
count PIN tries exactly as the project's client sees them.

PINs go to OpenSC on the command line: unavoidable for pkcs11-tool and acceptable for
test PINs only."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from card.pcsc import open_reader
from card.protocol import CardChannel
from jpki.constants import CertKind, KeyKind, PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.personas import Persona
from tests.conftest import require_or_skip
from tests.pcsc.fixtures import SharedReader

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(90)]

PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
OPENSC_ENV = {**os.environ, "OPENSC_DRIVER": "jpki"}


@pytest.fixture
def opensc_card(first_reader: SharedReader, software_card: SoftwareCard) -> SoftwareCard:
    require_or_skip(
        shutil.which("pkcs15-tool") is not None and Path(PKCS11_MODULE).exists(),
        "OpenSC is not installed (apt-get install opensc)",
    )
    first_reader.swap(software_card)
    first_reader.bridge.commands = []
    return software_card


def opensc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, env=OPENSC_ENV, timeout=60, check=False
    )


def project_channel(reader: str) -> CardChannel:
    # Short APDUs, as card.pcsc chooses by itself for this ATR (and as OpenSC reads).
    return CardChannel(open_reader(reader, timeout=5))


def test_opensc_lists_the_four_certificates(opensc_card: SoftwareCard) -> None:
    result = opensc("pkcs15-tool", "--reader", "0", "--list-certificates")
    assert result.returncode == 0, result.stderr
    for label in (
        "User Authentication Certificate",
        "Digital Signature Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate CA",
    ):
        assert f"[{label}]" in result.stdout
    serial = x509.load_der_x509_certificate(opensc_card.auth_certificate).serial_number
    assert f"{serial:016X}" in result.stdout.replace(" ", "")


def test_opensc_reads_the_auth_certificate_byte_identical(
    opensc_card: SoftwareCard,
    first_reader: SharedReader,
    tmp_path: Path,
) -> None:
    out = tmp_path / "auth.pem"
    first_reader.bridge.apdu_count = 0
    result = opensc("pkcs15-tool", "--reader", "0", "--read-certificate", "01", "-o", str(out))
    assert result.returncode == 0, result.stderr
    opensc_apdus = first_reader.bridge.apdu_count
    pem = x509.load_pem_x509_certificate(out.read_bytes())
    assert pem.public_bytes(Encoding.DER) == opensc_card.auth_certificate

    # The project's client on the same card: SELECT applet + the sized certificate read.
    first_reader.bridge.apdu_count = 0
    channel = project_channel(first_reader.reader)
    try:
        der = JpkiSession(channel).read_certificate(CertKind.AUTH)
    finally:
        channel.connection.close()  # type: ignore[attr-defined]
    assert der == opensc_card.auth_certificate
    project_apdus = first_reader.bridge.apdu_count
    assert project_apdus == channel.apdu_count  # nothing lost or added on the way
    print(f"auth certificate: OpenSC {opensc_apdus} APDUs, project {project_apdus}")
    assert project_apdus <= opensc_apdus


def test_opensc_signature_verifies_with_the_card_certificate(
    opensc_card: SoftwareCard, persona: Persona, tmp_path: Path
) -> None:
    message = tmp_path / "message.bin"
    message.write_bytes(b"mynaterm OpenSC interoperability")
    signature = tmp_path / "signature.bin"
    result = opensc(
        "pkcs11-tool",
        "--module",
        PKCS11_MODULE,
        "--slot-index",
        "0",
        "--login",
        "--pin",
        persona.pins_from_env().auth,
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
    assert result.returncode == 0, result.stderr
    public_key = x509.load_der_x509_certificate(opensc_card.auth_certificate).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert opensc_card.pin_remaining(PinKind.AUTH) == PinKind.AUTH.max_tries


def test_wrong_pin_through_opensc_costs_exactly_one_try(
    opensc_card: SoftwareCard,
    first_reader: SharedReader,
    persona: Persona,
) -> None:
    right = persona.pins_from_env().auth
    wrong = "0000" if right != "0000" else "9999"
    result = opensc(
        "pkcs11-tool",
        "--module",
        PKCS11_MODULE,
        "--slot-index",
        "0",
        "--login",
        "--pin",
        wrong,
        "--sign",
        "--mechanism",
        "SHA256-RSA-PKCS",
        "--id",
        "01",
        "-i",
        "/dev/null",
        "-o",
        "/dev/null",
    )
    assert result.returncode != 0
    assert "CKR_PIN_INCORRECT" in result.stdout + result.stderr

    channel = project_channel(first_reader.reader)
    try:
        session = JpkiSession(channel)
        status = session.pin_status(PinKind.AUTH)
        assert status.remaining == PinKind.AUTH.max_tries - 1
        assert opensc_card.pin_remaining(PinKind.AUTH) == PinKind.AUTH.max_tries - 1
        # The right PIN restores the counter and the key signs.
        session.verify_pin(PinKind.AUTH, right)
        digest = hashlib.sha256(b"after a wrong PIN").digest()
        signature = session.sign(KeyKind.AUTH, digest)
    finally:
        channel.connection.close()  # type: ignore[attr-defined]
    # A signature the card's auth certificate verifies (its length alone proves nothing:
    # the session refuses any other length).
    public_key = x509.load_der_x509_certificate(opensc_card.auth_certificate).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    assert opensc_card.pin_remaining(PinKind.AUTH) == PinKind.AUTH.max_tries
