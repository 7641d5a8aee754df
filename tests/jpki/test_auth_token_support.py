"""Shared helpers for the auth-token, CMS and PDF tests (no tests in here).

The checker is the project's real CertificateValidator with the test PKI's anchors.
Revocation: see `revocation_for`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from card.protocol import CardChannel
from jpki.constants import KeyKind
from jpki.jpki_ap import JpkiSession
from jpki.signer import JpkiCardSigner
from jpki.validation import (
    CertificateRevokedError,
    CertificateValidator,
    RevocationResult,
    RevocationUnknownError,
    TrustAnchor,
    TrustStore,
)
from simulators.card import SoftwareCard, SoftwareCardConnection
from simulators.personas import Persona
from simulators.pki import TestPki

_HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


@dataclass
class SoftwareKeySigner:
    """A DigestSigner over a software RSA key, for tests only."""

    key: rsa.RSAPrivateKey
    certificate: bytes
    calls: list[str] = field(default_factory=list)

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        self.calls.append(hash_name)
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(_HASHES[hash_name]))


@dataclass
class PkiStatusRevocation:
    """Revocation answered from the test PKI's own records; `down` makes every source
    fail, as when neither the CRL nor the OCSP responder can be reached."""

    pki: TestPki
    down: bool = False

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult:
        if self.down:
            raise RevocationUnknownError(
                serial=cert.serial_number,
                reasons=[("ocsp", "connection refused"), ("crl", "connection refused")],
            )
        status = self.pki.status(cert.serial_number, now=at)
        if status.state == "revoked":
            raise CertificateRevokedError(
                serial=cert.serial_number,
                revoked_at=status.revoked_at,
                reason=str(status.reason),
                source="crl",
            )
        if status.state != "good":
            raise RevocationUnknownError(serial=cert.serial_number, reasons=[("crl", status.state)])
        return RevocationResult(status="good", source="crl", checked_at=at)


def trust_store(pki: TestPki) -> TrustStore:
    return TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])


def revocation_for(pki: TestPki) -> PkiStatusRevocation:
    return PkiStatusRevocation(pki)


def checker_for(pki: TestPki) -> tuple[CertificateValidator, PkiStatusRevocation]:
    revocation = revocation_for(pki)
    return CertificateValidator(trust_store(pki), revocation=revocation), revocation


@dataclass
class CardUnderTest:
    card: SoftwareCard
    channel: CardChannel
    session: JpkiSession
    persona: Persona

    def signer(self, key: KeyKind, pin: str | None = None) -> JpkiCardSigner:
        """A card signer for `key`, its PIN verified once with the persona's test PIN."""
        pins = self.persona.pins
        self.session.verify_pin(key.pin, pin or (pins.auth if key is KeyKind.AUTH else pins.sign))
        return JpkiCardSigner(self.session, key)


def open_card(card: SoftwareCard, persona: Persona) -> CardUnderTest:
    channel = CardChannel(SoftwareCardConnection(card))
    return CardUnderTest(card, channel, JpkiSession(channel), persona)

