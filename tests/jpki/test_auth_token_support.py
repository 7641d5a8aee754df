"""Shared helpers for the auth-token, CMS and PDF tests (no tests in here).

The checker is the project's real CertificateValidator and RevocationChecker with the
test PKI's anchors, its OCSP responder and its CRLs (in process, see PkiNetwork)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from card.protocol import CardChannel
from jpki.constants import KeyKind
from jpki.jpki_ap import JpkiSession
from jpki.signer import JpkiCardSigner
from jpki.validation import (
    CertificateValidator,
    FetchError,
    OcspClient,
    RevocationChecker,
    RevocationPolicy,
    TrustStore,
)
from jpki.validation.policy import RevocationSource
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
class PkiNetwork:
    """The test PKI's OCSP responder and CRL distribution points, answered in process
    (what `TestPki.serve()` answers over HTTP). `down` makes both unreachable."""

    pki: TestPki
    down: bool = False
    ocsp_posts: int = 0
    crl_fetches: int = 0

    def post(self, url: str, request_der: bytes, timeout: float) -> bytes:
        if self.down:
            raise FetchError(f"{url}: connection refused", reason_code="FETCH_NETWORK")
        self.ocsp_posts += 1
        return self.pki.ocsp_response(request_der)

    def fetch(self, url: str) -> bytes:
        if self.down:
            raise FetchError(f"{url}: connection refused", reason_code="FETCH_NETWORK")
        for kind in ("auth", "sign"):
            for partition in self.pki.partitions(kind):
                if self.pki.crl_url(kind, partition) == url:
                    self.crl_fetches += 1
                    return self.pki.crl(kind, partition)
        raise FetchError(f"{url}: not found", reason_code="FETCH_NOT_FOUND")


def trust_store(pki: TestPki) -> TrustStore:
    return TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])


def checker_for(
    pki: TestPki, *, sources: tuple[RevocationSource, ...] = ("ocsp", "crl")
) -> tuple[CertificateValidator, PkiNetwork]:
    """The real validator and revocation checker (hard fail), OCSP then CRL by default.
    OCSP answers are not cached, so a revocation shows at the very next check."""
    network = PkiNetwork(pki)
    revocation = RevocationChecker(
        RevocationPolicy(sources=sources),
        crl_fetcher=network,
        ocsp=OcspClient(network, cache=False),
        retry_after=0.0,
    )
    return CertificateValidator(trust_store(pki), revocation=revocation), network


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
