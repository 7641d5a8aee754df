"""The basic 4 facts from a signature certificate's subjectAltName otherNames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto.core import PrintableString, UTF8String
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from jpki.basic_facts import CertInfoError, basic_four_from_certificate
from jpki.constants import (
    OID_SAN_ADDRESS,
    OID_SAN_BIRTH_DATE,
    OID_SAN_NAME,
    OID_SAN_NAME_SUBSTITUTE,
    OID_SAN_SEX,
)
from simulators.personas import Persona
from simulators.pki import TestPki
from tests.conftest import REAL_JPKI_DIR

REAL_AUTH = REAL_JPKI_DIR / "auth_real.pem"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (test only)


def cert_with_san(*names: x509.GeneralName) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(_KEY.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(_KEY, hashes.SHA256()).public_bytes(Encoding.DER)


def other(oid: str, value: bytes) -> x509.OtherName:
    return x509.OtherName(x509.ObjectIdentifier(oid), value)


FOUR = [
    other(OID_SAN_NAME, UTF8String("佐藤　花子").dump()),
    other(OID_SAN_SEX, UTF8String("2").dump()),
    other(OID_SAN_BIRTH_DATE, UTF8String("19920305").dump()),
    other(OID_SAN_ADDRESS, UTF8String("大阪府大阪市北区中之島1-3-20").dump()),
]


def test_the_test_pki_sign_certificate_carries_the_personas_facts(
    test_pki: TestPki, persona: Persona
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = test_pki.issue_card(persona, key.public_key(), key.public_key())
    facts = basic_four_from_certificate(issued.sign_cert)
    assert (facts.name, facts.address, facts.sex) == (persona.name, persona.address, persona.sex)
    assert facts.birth_date == persona.birth_date.strftime("%Y%m%d")
    assert facts.name_substitute is not None  # the PKI always writes the substitute field
    with pytest.raises(CertInfoError):
        basic_four_from_certificate(issued.auth_cert)  # opaque subject, no facts


def test_all_four_parsed_and_other_general_names_ignored() -> None:
    der = cert_with_san(
        x509.RFC822Name("x@example.jp"),
        *FOUR,
        other(OID_SAN_NAME_SUBSTITUTE, UTF8String("").dump()),
    )
    facts = basic_four_from_certificate(der)
    assert facts.name == "佐藤　花子" and facts.sex == "2" and facts.birth_date == "19920305"
    assert facts.address.startswith("大阪府") and facts.name_substitute == ""
    assert facts.address_substitute is None


@pytest.mark.parametrize(
    "names",
    [
        [],  # no subjectAltName
        FOUR[:3],  # address missing
        [*FOUR, other(OID_SAN_SEX, UTF8String("1").dump())],  # repeated
        [*FOUR[:3], other(OID_SAN_ADDRESS, PrintableString("Tokyo").dump())],  # not UTF8
    ],
)
def test_incomplete_or_wrong_forms_are_refused(names: list[x509.GeneralName]) -> None:
    with pytest.raises(CertInfoError):
        basic_four_from_certificate(cert_with_san(*names))


def test_real_jlis_auth_certificate_has_no_facts() -> None:
    assert REAL_AUTH.exists(), f"shared data missing: {REAL_AUTH}"
    real = x509.load_pem_x509_certificate(REAL_AUTH.read_bytes()).public_bytes(Encoding.DER)
    with pytest.raises(CertInfoError, match="lacks"):
        basic_four_from_certificate(real)


def test_garbage_is_refused() -> None:
    with pytest.raises(CertInfoError):
        basic_four_from_certificate(b"\x30\x03\x02\x01\x01")
