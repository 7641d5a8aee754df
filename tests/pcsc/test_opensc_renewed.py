"""A card renewed on itself (issue 15: new keys generated on the card, new certificates
written and activated through the issuer's admin commands, a model) through pcscd +
vpcd, then OpenSC 0.23's own JPKI driver as an independent client: it reads the new
certificates and signs with the new key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.constants import Aid, KeyKind
from jpki.issuance import IssuerSession, replace_keys
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.certifier import PkiCertifier
from tests.pcsc.fixtures import SharedReader
from tests.pcsc.opensc_tools import (
    opensc,
    opensc_sign,
    project_channel,
    require_opensc,
    verify_signature,
)

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(120)]


def test_opensc_reads_and_signs_with_a_card_renewed_through_pcscd(
    first_reader: SharedReader,
    card_templates: dict[str, SoftwareCard],
    persona: Persona,
    test_pki: TestPki,
    tmp_path: Path,
) -> None:
    require_opensc()
    card = card_templates[persona.id].copy()
    old_auth = card.auth_certificate
    first_reader.swap(card)
    certifier = PkiCertifier(test_pki, persona, card)
    channel = project_channel(first_reader.reader)
    try:
        admin = IssuerSession(channel, Aid.JPKI, test_pki.answer_card_challenge)
        new = replace_keys(admin, list(KeyKind), certifier)
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
    result = opensc_sign(persona.pins_from_env().auth, message, signature)
    assert result.returncode == 0, result.stderr
    verify_signature(new[KeyKind.AUTH], signature, message)
    old_key = x509.load_der_x509_certificate(old_auth).public_key()
    assert isinstance(old_key, rsa.RSAPublicKey)
    with pytest.raises(InvalidSignature):  # the old key is gone from the card
        old_key.verify(
            signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
        )
