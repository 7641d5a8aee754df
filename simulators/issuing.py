"""The seam between the software card and whoever certifies its keys (the test PKI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from simulators.personas import Persona


@dataclass(frozen=True)
class IssuedCertificates:
    """DER certificates for one card: its end-entity certificates and their CAs.
    `sign_cert` is None for a card issued without a signature certificate (holders
    under 15)."""

    auth_cert: bytes
    sign_cert: bytes | None
    auth_ca_cert: bytes
    sign_ca_cert: bytes
    # The issuer's administration public key (EC P-256 SubjectPublicKeyInfo DER) the card
    # keeps for EXTERNAL AUTHENTICATE (simulators.card.admin), if the issuer has one.
    issuer_key: bytes | None = None


class CardIssuer(Protocol):
    def issue_card(
        self,
        persona: Persona,
        auth_public_key: RSAPublicKey,
        sign_public_key: RSAPublicKey,
    ) -> IssuedCertificates:
        """Certify a new card's two keys for the persona (auth: opaque subject; sign:
        basic 4 facts in subjectAltName). No sign certificate when the persona's
        `sign_certificate` is false."""
        ...
