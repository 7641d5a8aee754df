"""The test PKI as a jpki.issuance KeyCertifier, for the tests that renew a card's keys
on the card (tests/jpki, tests/pcsc)."""

from __future__ import annotations

from cryptography import x509

from jpki.constants import KeyKind
from jpki.issuance import GeneratedKey
from simulators.card import SoftwareCard
from simulators.personas import Persona
from simulators.pki import TestPki


def serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


class PkiCertifier:
    """The test PKI as a KeyCertifier for one card and holder: each new certificate
    replaces the card's current one of its kind."""

    def __init__(self, pki: TestPki, holder: Persona, card: SoftwareCard) -> None:
        self.pki = pki
        self.holder = holder
        self.replaces = {
            KeyKind.AUTH: serial(card.auth_certificate),
            KeyKind.SIGN: serial(card.sign_certificate),
        }

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
