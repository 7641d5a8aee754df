"""Fixtures for the software card tests: a minimal in-memory issuer (two self-signed
CAs) and cards created once per session and cloned per test, because RSA-2048 key
generation is the slow part."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from simulators.card import SoftwareCard
from simulators.issuing import IssuedCertificates
from simulators.personas import Persona, get_persona


class MinimalIssuer:
    """Just enough of a CardIssuer for card tests: an auth CA and a sign CA, each
    self-signed, certifying the card's keys with the persona id in the subject."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self._now = now
        self._cas: dict[str, tuple[rsa.RSAPrivateKey, x509.Certificate]] = {}
        for kind in ("user authentication", "digital signature"):
            key = rsa.generate_private_key(65537, 2048)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"JPKI for {kind}"),
                ]
            )
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .sign(key, hashes.SHA256())
            )
            self._cas[kind] = (key, cert)

    def _issue(self, kind: str, subject: str, public_key: rsa.RSAPublicKey) -> bytes:
        ca_key, ca_cert = self._cas[kind]
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, subject),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now - dt.timedelta(days=1))
            .not_valid_after(self._now + dt.timedelta(days=365))
            .sign(ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.DER)

    def issue_card(
        self,
        persona: Persona,
        auth_public_key: rsa.RSAPublicKey,
        sign_public_key: rsa.RSAPublicKey,
    ) -> IssuedCertificates:
        der = serialization.Encoding.DER
        return IssuedCertificates(
            auth_cert=self._issue("user authentication", f"auth {persona.id}", auth_public_key),
            sign_cert=self._issue("digital signature", f"sign {persona.id}", sign_public_key),
            auth_ca_cert=self._cas["user authentication"][1].public_bytes(der),
            sign_ca_cert=self._cas["digital signature"][1].public_bytes(der),
        )


@pytest.fixture(scope="session")
def minimal_issuer() -> MinimalIssuer:
    return MinimalIssuer()


@pytest.fixture(scope="session")
def yamada() -> Persona:
    return get_persona("yamada-taro")


@pytest.fixture(scope="session")
def yamada_card_template(minimal_issuer: MinimalIssuer, yamada: Persona) -> SoftwareCard:
    """Created once; tests get clones (same keys, fresh counters) through `card`."""
    return SoftwareCard.create(yamada, minimal_issuer, yamada.pins)


@pytest.fixture(scope="session")
def takahashi_card_template(minimal_issuer: MinimalIssuer) -> SoftwareCard:
    persona = get_persona("takahashi-kenichi")
    return SoftwareCard.create(persona, minimal_issuer, persona.pins)


@pytest.fixture
def card(yamada_card_template: SoftwareCard) -> SoftwareCard:
    return yamada_card_template.copy()


@pytest.fixture
def t0_card(yamada_card_template: SoftwareCard) -> SoftwareCard:
    return yamada_card_template.copy(t0=True)
