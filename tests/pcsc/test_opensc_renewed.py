"""A card renewed on itself (issue 15: new keys generated on the card, new certificates
written and activated through the issuer's admin commands, a model) through pcscd +
vpcd, then OpenSC 0.23's own JPKI driver as an independent client: it reads the new
certificates and signs with the new key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.constants import Aid, KeyKind
from jpki.issuance import GeneratedKey, IssuerSession, replace_keys
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.conftest import require_or_skip
from tests.pcsc.fixtures import SharedReader
from tests.pcsc.test_opensc import PKCS11_MODULE, opensc, project_channel

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(120)]


class Certifier:
    def __init__(self, pki: TestPki, holder: Persona, replaces: dict[KeyKind, int]) -> None:
        self.pki, self.holder, self.replaces = pki, holder, replaces

    def nonce(self) -> bytes:
        return self.pki.new_pop_nonce()

    def certify(self, generated: GeneratedKey) -> bytes:
        der, _ = self.pki.certify_generated_key(
            self.holder,
            generated.kind.value,
            generated.answer,
            generated.nonce,
            replaces=self.replaces[generated.kind],
        )
        return der


def test_opensc_reads_and_signs_with_a_card_renewed_through_pcscd(
    first_reader: SharedReader,
    card_templates: dict[str, SoftwareCard],
    persona: Persona,
    test_pki: TestPki,
    tmp_path: Path,
) -> None:
    require_or_skip(
        shutil.which("pkcs15-tool") is not None and Path(PKCS11_MODULE).exists(),
        "OpenSC is not installed (apt-get install opensc)",
    )
    card = card_templates[persona.id].copy()
    old_auth = card.auth_certificate
    first_reader.swap(card)
    replaces = {
        KeyKind.AUTH: x509.load_der_x509_certificate(card.auth_certificate).serial_number,
        KeyKind.SIGN: x509.load_der_x509_certificate(card.sign_certificate).serial_number,
    }
    channel = project_channel(first_reader.reader)
    try:
        admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
        new = replace_keys(admin, list(KeyKind), Certifier(test_pki, persona, replaces))
    finally:
        channel.connection.close()  # type: ignore[attr-defined]
    assert card.auth_certificate == new[KeyKind.AUTH] != old_auth
    first_reader.swap(card)  # a fresh insertion for OpenSC

    out = tmp_path / "auth.pem"
    result = opensc("pkcs15-tool", "--reader", "0", "--read-certificate", "01", "-o", str(out))
    assert result.returncode == 0, result.stderr
    read = x509.load_pem_x509_certificate(out.read_bytes()).public_bytes(Encoding.DER)
    assert read == new[KeyKind.AUTH]

    message = tmp_path / "message.bin"
    message.write_bytes(b"signed with the key the card made for itself")
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
    key = x509.load_der_x509_certificate(new[KeyKind.AUTH]).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256())
    old_key = x509.load_der_x509_certificate(old_auth).public_key()
    assert isinstance(old_key, rsa.RSAPublicKey)
    with pytest.raises(InvalidSignature):  # the old key is gone from the card
        old_key.verify(
            signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
        )
