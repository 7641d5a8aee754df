"""The login token validator's shortcuts through the project's path validator: one
parse per token, the key and common name kept with a remembered certificate, and the
same answers as through any other CertificateChecker."""

from __future__ import annotations

import codecs
from datetime import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from jpki.auth import (
    AuthTokenValidator,
    CertificateRevokedError,
    InMemoryChallengeStore,
    SignatureInvalidError,
    TokenMalformedError,
    create_auth_token,
)
from jpki.auth.token import parse_auth_token
from jpki.constants import CertKind
from jpki.validation import CertificateRevokedError as ValidatorRevoked
from jpki.validation import CertificateValidator, RevocationResult, TrustAnchor, TrustStore
from jpki.validation.certinfo import parse_der
from jpki.validation.result import ValidationResult
from tests.jpki.conftest import _KEY_POOL, NOW, MiniPki, der

ORIGIN = "https://portal.example.jp"


class Signer:
    def __init__(self, cert: x509.Certificate) -> None:
        wanted = cert.public_key().public_numbers()  # type: ignore[union-attr]
        self.key = next(k for k in _KEY_POOL if k.public_key().public_numbers() == wanted)
        self.certificate = der(cert)

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


class Revocation:
    def __init__(self) -> None:
        self.revoked: set[int] = set()

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult:
        if cert.serial_number in self.revoked:
            raise ValidatorRevoked(
                serial=cert.serial_number, revoked_at=at, reason=None, source="crl"
            )
        return RevocationResult(status="good", source="crl", checked_at=at)


class PlainChecker:
    """Any CertificateChecker: only validate(cert_der, kind, at)."""

    def __init__(self, inner: CertificateValidator) -> None:
        self.inner = inner

    def validate(self, cert_der: bytes, kind: CertKind, *, at: datetime) -> ValidationResult:
        return self.inner.validate(cert_der, kind, at=at)


def login(validator: AuthTokenValidator, store: InMemoryChallengeStore, signer: Signer) -> str:
    challenge = store.issue("s", ORIGIN, now=NOW)
    token = create_auth_token(signer, ORIGIN, challenge.nonce).to_json()
    return validator.validate(token, "s", challenge.nonce, now=NOW).subject_cn


def test_repeated_logins_reuse_the_remembered_key_and_still_check_revocation(
    auth_pki: MiniPki,
) -> None:
    cert = auth_pki.issue()
    signer = Signer(cert)
    revocation = Revocation()
    checker = CertificateValidator(TrustStore(auth_pki.anchors), revocation=revocation)
    store = InMemoryChallengeStore(clock=lambda: NOW)
    validator = AuthTokenValidator(checker, store, ORIGIN, clock=lambda: NOW)
    first = login(validator, store, signer)
    parsed = parse_der(der(cert))
    kept = checker.subject_public_key(parsed, CertKind.AUTH)
    assert kept is checker.subject_public_key(parsed, CertKind.AUTH)  # the path's object
    assert isinstance(kept, rsa.RSAPublicKey)
    assert kept.public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    assert login(validator, store, signer) == first == f"TEST{cert.serial_number:019d}"
    revocation.revoked.add(cert.serial_number)
    with pytest.raises(CertificateRevokedError):
        login(validator, store, signer)


def test_a_remembered_certificate_does_not_lend_its_key_to_another(auth_pki: MiniPki) -> None:
    known, other = auth_pki.issue(), auth_pki.issue()
    checker = CertificateValidator(TrustStore(auth_pki.anchors), revocation=Revocation())
    store = InMemoryChallengeStore(clock=lambda: NOW)
    validator = AuthTokenValidator(checker, store, ORIGIN, clock=lambda: NOW)
    login(validator, store, Signer(known))
    # A token carrying `other` but signed with `known`'s (remembered) key.
    challenge = store.issue("s", ORIGIN, now=NOW)
    forged = Signer(known)
    assert Signer(other).key is not forged.key  # the fixture hands out distinct keys
    forged.certificate = der(other)
    token = create_auth_token(forged, ORIGIN, challenge.nonce).to_json()
    with pytest.raises(SignatureInvalidError):
        validator.validate(token, "s", challenge.nonce, now=NOW)


def test_any_checker_gives_the_same_answer(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    store = InMemoryChallengeStore(clock=lambda: NOW)
    inner = CertificateValidator(TrustStore(auth_pki.anchors), revocation=Revocation())
    fast = AuthTokenValidator(inner, store, ORIGIN, clock=lambda: NOW)
    plain = AuthTokenValidator(PlainChecker(inner), store, ORIGIN, clock=lambda: NOW)
    assert login(fast, store, Signer(cert)) == login(plain, store, Signer(cert))


def test_token_text_edge_cases(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    token = create_auth_token(Signer(cert), ORIGIN, "n" * 43)
    text = token.to_json()
    assert parse_auth_token("\ufeff" + text) == token  # as json.loads of the UTF-8 bytes
    assert parse_auth_token(codecs.BOM_UTF8 + text.encode()) == token
    assert parse_auth_token(text.encode("utf-16")) == token
    with pytest.raises(TokenMalformedError):
        parse_auth_token(text[:-1] + "\ud800}")  # a lone surrogate is not JSON text
    with pytest.raises(TokenMalformedError):
        parse_auth_token(text.replace('"signature": "', '"signature": "\u00e9'))
    with pytest.raises(TokenMalformedError):
        parse_auth_token(text.replace('"signature": "', '"signature": " '))
