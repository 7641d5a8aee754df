"""Detached CAdES-BES signatures made by the software card, checked by OpenSSL's CLI and
by verify_cms with the real validator and the test PKI."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.basic_facts import CertInfoError, basic_four_from_certificate
from jpki.cms import (
    CmsCertificateRejectedError,
    CmsDigestMismatchError,
    CmsMalformedError,
    CmsSignatureInvalidError,
    CmsSignerCertificateMismatchError,
    sign_cms,
    verify_cms,
)
from jpki.constants import CertKind, KeyKind
from jpki.signer import JpkiCardSigner
from simulators.card import SoftwareCard
from simulators.personas import Persona, get_persona
from simulators.pki import TestPki
from tests.jpki.test_auth_token_support import CardUnderTest, checker_for, open_card

CONTENT = "申請書: 転入届\n".encode() * 50


def later() -> datetime:
    """A minute from now, read when the test runs: a constant taken at collection falls
    before the certificates that a long run issues later."""
    return datetime.now(UTC) + timedelta(minutes=1)


@pytest.fixture
def card(software_card: SoftwareCard, persona: Persona) -> CardUnderTest:
    return open_card(software_card, persona)


@pytest.fixture
def sign_signer(card: CardUnderTest) -> JpkiCardSigner:
    return card.signer(KeyKind.SIGN)


def openssl_verify(tmp_path: Path, content: bytes, signature: bytes, ca_der: bytes) -> int:
    return openssl_cms_verify(tmp_path, content, signature, ca_der).returncode


def openssl_cms_verify(
    tmp_path: Path, content: bytes, signature: bytes, ca_der: bytes
) -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is required (apt-get install openssl)")
    (tmp_path / "content.bin").write_bytes(content)
    (tmp_path / "sig.p7s").write_bytes(signature)
    ca_pem = x509.load_der_x509_certificate(ca_der).public_bytes(Encoding.PEM)
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.p7s"),
            "-content",
            str(tmp_path / "content.bin"),
            "-CAfile",
            str(tmp_path / "ca.pem"),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result


def test_openssl_verifies_and_rejects_a_changed_byte_as_does_verify_cms(
    tmp_path: Path, card: CardUnderTest, sign_signer: JpkiCardSigner, test_pki: TestPki
) -> None:
    signature = sign_cms(CONTENT, sign_signer)
    ca = card.session.read_certificate(CertKind.SIGN_CA)
    assert openssl_verify(tmp_path, CONTENT, signature, ca) == 0

    checker, _ = checker_for(test_pki)
    verified = verify_cms(CONTENT, signature, checker, at=later())
    cert = x509.load_der_x509_certificate(sign_signer.certificate)
    assert verified.serial == cert.serial_number
    assert verified.hash_name == "sha256"

    changed = bytearray(CONTENT)
    changed[7] ^= 0x20
    # Refused for the content, not for some other trouble with the command line.
    refused = openssl_cms_verify(tmp_path, bytes(changed), signature, ca)
    assert refused.returncode != 0 and "content verify error" in refused.stderr, refused.stderr
    with pytest.raises(CmsDigestMismatchError) as info:
        verify_cms(bytes(changed), signature, checker, at=later())
    assert info.value.code == "CMS_DIGEST_MISMATCH"


def test_openssl_rejects_a_signature_under_an_untrusted_ca(
    tmp_path: Path, card: CardUnderTest, sign_signer: JpkiCardSigner
) -> None:
    signature = sign_cms(CONTENT, sign_signer)
    auth_ca = card.session.read_certificate(CertKind.AUTH_CA)
    # Refused for the chain, not for some other trouble with the command line.
    refused = openssl_cms_verify(tmp_path, CONTENT, signature, auth_ca)
    assert refused.returncode != 0
    assert "unable to get local issuer certificate" in refused.stderr, refused.stderr


def test_signed_attributes_make_cades_bes(sign_signer: JpkiCardSigner) -> None:
    when = datetime(2026, 5, 1, 3, 4, 5, tzinfo=UTC)
    info = cms.ContentInfo.load(sign_cms(b"x", sign_signer, signing_time=when))
    signed = info["content"]
    assert signed["encap_content_info"]["content"].native is None  # detached
    attrs = {a["type"].native: a["values"][0] for a in signed["signer_infos"][0]["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attrs["signing_time"].native == when
    ess = attrs["signing_certificate_v2"]["certs"][0]
    import hashlib

    assert ess["cert_hash"].native == hashlib.sha256(sign_signer.certificate).digest()
    cert = x509.load_der_x509_certificate(sign_signer.certificate)
    assert ess["issuer_serial"]["serial_number"].native == cert.serial_number


def test_verify_returns_signing_time_and_basic_four_of_the_signer(
    sign_signer: JpkiCardSigner, persona: Persona, test_pki: TestPki
) -> None:
    when = datetime(2026, 5, 1, 3, 4, 5, tzinfo=UTC)
    checker, _ = checker_for(test_pki)
    verified = verify_cms(
        CONTENT, sign_cms(CONTENT, sign_signer, signing_time=when), checker, at=later()
    )
    assert verified.signing_time == when
    assert verified.basic_four is not None
    assert verified.basic_four.name == persona.name
    assert verified.basic_four.address == persona.address
    assert verified.basic_four.birth_date == persona.birth_date.strftime("%Y%m%d")
    assert verified.basic_four.sex == persona.sex


@pytest.mark.parametrize("hash_name", ["sha384", "sha512"])
def test_other_hashes_verify_with_openssl(
    tmp_path: Path,
    hash_name: str,
    card: CardUnderTest,
    sign_signer: JpkiCardSigner,
    test_pki: TestPki,
) -> None:
    signature = sign_cms(CONTENT, sign_signer, hash_name=hash_name)
    assert (
        openssl_verify(
            tmp_path, CONTENT, signature, card.session.read_certificate(CertKind.SIGN_CA)
        )
        == 0
    )
    checker, _ = checker_for(test_pki)
    assert verify_cms(CONTENT, signature, checker, at=later()).hash_name == hash_name


def _flip_signature_bit(signature_der: bytes) -> bytes:
    info = cms.ContentInfo.load(signature_der)
    signer_info = info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[0] ^= 0x80
    signer_info["signature"] = bytes(value)
    return bytes(info.dump(force=True))


def test_flipped_signature_bit_is_signature_invalid(
    sign_signer: JpkiCardSigner, test_pki: TestPki
) -> None:
    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsSignatureInvalidError):
        verify_cms(
            CONTENT, _flip_signature_bit(sign_cms(CONTENT, sign_signer)), checker, at=later()
        )


def _other_sign_certificate(templates: dict[str, SoftwareCard]) -> bytes:
    other_persona = get_persona("sato-hanako")
    other = open_card(templates[other_persona.id].copy(), other_persona)
    return other.signer(KeyKind.SIGN).certificate


def _replace_signer_certificate(signature_der: bytes, cert_der: bytes) -> bytes:
    """Put `cert_der` in the certificate set and point the signer id at it."""
    info = cms.ContentInfo.load(signature_der)
    signed = info["content"]
    cert = asn1_x509.Certificate.load(cert_der)
    signed["certificates"] = [cms.CertificateChoices({"certificate": cert})]
    signed["signer_infos"][0]["sid"] = cms.SignerIdentifier(
        {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
    )
    return bytes(info.dump(force=True))


def test_swapped_certificate_is_signature_invalid(
    sign_signer: JpkiCardSigner, card_templates: dict[str, SoftwareCard], test_pki: TestPki
) -> None:
    """Another person's valid sign certificate (same CA) put in place of the signer's."""
    swapped = _replace_signer_certificate(
        sign_cms(CONTENT, sign_signer), _other_sign_certificate(card_templates)
    )
    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsSignatureInvalidError):
        verify_cms(CONTENT, swapped, checker, at=later())


def test_signing_certificate_v2_naming_another_certificate_is_refused(
    sign_signer: JpkiCardSigner, card_templates: dict[str, SoftwareCard], test_pki: TestPki
) -> None:
    """The signature verifies with the embedded certificate, but the signed
    signingCertificateV2 names another one: certificate substitution."""
    other_cert = _other_sign_certificate(card_templates)

    class ClaimsOther:
        certificate = other_cert

        def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
            return sign_signer.sign_digest(digest, hash_name)

    crafted = _replace_signer_certificate(sign_cms(CONTENT, ClaimsOther()), sign_signer.certificate)
    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsSignerCertificateMismatchError) as info:
        verify_cms(CONTENT, crafted, checker, at=later())
    assert info.value.code == "CMS_SIGNER_CERT_MISMATCH"


def test_signature_without_the_signer_certificate_is_malformed(
    sign_signer: JpkiCardSigner, card_templates: dict[str, SoftwareCard], test_pki: TestPki
) -> None:
    info = cms.ContentInfo.load(sign_cms(CONTENT, sign_signer))
    other = asn1_x509.Certificate.load(_other_sign_certificate(card_templates))
    info["content"]["certificates"] = [cms.CertificateChoices({"certificate": other})]
    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsMalformedError):
        verify_cms(CONTENT, bytes(info.dump(force=True)), checker, at=later())


def test_wrong_key_for_certificate_fails_signature_and_ess_checks(
    sign_signer: JpkiCardSigner, card: CardUnderTest, test_pki: TestPki
) -> None:
    # The card's AUTH key signs while claiming the SIGN certificate.
    class Mismatched:
        certificate = sign_signer.certificate

        def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
            return card.signer(KeyKind.AUTH).sign_digest(digest, hash_name)

    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsSignatureInvalidError):
        verify_cms(CONTENT, sign_cms(CONTENT, Mismatched()), checker, at=later())


def test_revoked_signer_and_revocation_down(persona: Persona, test_pki: TestPki) -> None:
    card = open_card(SoftwareCard.create(persona, test_pki), persona)
    signer = card.signer(KeyKind.SIGN)
    signature = sign_cms(CONTENT, signer)
    checker, network = checker_for(test_pki)
    network.down = True
    with pytest.raises(CmsCertificateRejectedError) as info:
        verify_cms(CONTENT, signature, checker, at=later())
    assert info.value.code == "REVOCATION_UNKNOWN"
    network.down = False
    serial = x509.load_der_x509_certificate(signer.certificate).serial_number
    test_pki.revoke(serial, "move", at=datetime.now(UTC))
    with pytest.raises(CmsCertificateRejectedError) as info:
        verify_cms(CONTENT, signature, checker, at=later())
    assert info.value.code == "CERT_REVOKED"


@pytest.mark.parametrize("garbage", [b"", b"\x30\x00", b"\x30\x82\xff\xff", b"not der at all"])
def test_garbage_signature_is_malformed(garbage: bytes, test_pki: TestPki) -> None:
    checker, _ = checker_for(test_pki)
    with pytest.raises(CmsMalformedError):
        verify_cms(CONTENT, garbage, checker)


def test_auth_certificate_has_no_basic_four(card: CardUnderTest) -> None:
    with pytest.raises(CertInfoError):
        basic_four_from_certificate(card.session.read_certificate(CertKind.AUTH))
