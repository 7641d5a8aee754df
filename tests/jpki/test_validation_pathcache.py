"""The validator's path cache and fast signature path: what is remembered per exact
certificate (CA signature, kind fitness) never stands in for what must be checked on
every call (validity at the instant, revocation), and no other certificate hits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509

from jpki.constants import CertKind
from jpki.validation import (
    CertificateExpiredError,
    CertificateRevokedError,
    CertificateValidator,
    CrlStore,
    MalformedCertificateError,
    RevocationChecker,
    RevocationPolicy,
    RevocationResult,
    TrustAnchor,
    TrustStore,
    UntrustedCertificateError,
    ValidationError,
)
from jpki.validation.certinfo import parse_der, revocation_pointers, signed_parts
from jpki.validation.trust import signed_by
from tests.jpki.conftest import NOW, MiniPki, der

SOFT = RevocationPolicy(mode="soft-fail")


class Counting:
    """A revocation source that answers "good" until told the certificate is revoked."""

    def __init__(self) -> None:
        self.calls = 0
        self.revoked: set[int] = set()

    def check(
        self, cert: x509.Certificate, issuer: TrustAnchor, *, at: datetime
    ) -> RevocationResult:
        self.calls += 1
        if cert.serial_number in self.revoked:
            raise CertificateRevokedError(
                serial=cert.serial_number, revoked_at=at, reason=None, source="crl"
            )
        return RevocationResult(status="good", source="crl", checked_at=at)


def test_hit_gives_the_same_result_as_a_first_validation(auth_pki: MiniPki) -> None:
    cert = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    first = validator.validate(cert, "auth", at=NOW)
    again = validator.validate(cert, "auth", at=NOW)
    assert len(validator._paths) == 1
    assert again == first
    uncached = CertificateValidator(TrustStore(auth_pki.anchors), SOFT, path_cache_size=0)
    assert uncached.validate(cert, "auth", at=NOW) == first
    assert len(uncached._paths) == 0


def test_validity_is_checked_on_every_hit(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(not_after=NOW + timedelta(days=1))
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    validator.validate(der(cert), "auth", at=NOW)
    with pytest.raises(CertificateExpiredError):
        validator.validate(der(cert), "auth", at=NOW + timedelta(days=2))
    with pytest.raises(CertificateExpiredError):
        validator.validate(der(cert), "auth", at=cert.not_valid_before_utc - timedelta(seconds=1))


def test_anchor_validity_is_checked_on_every_hit(auth_pki: MiniPki) -> None:
    cert = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    result = validator.validate(cert, "auth", at=NOW)
    (anchor,) = [a for a in validator.trust.anchors if a.key_id == result.issuer_key_id]
    # A certificate outliving its CA generation (the builder does not stop it): fine at
    # NOW, refused once the generation has expired although the path is remembered.
    late = auth_pki.issue(not_after=anchor.not_after + timedelta(days=30))
    validator.validate(der(late), "auth", at=NOW)
    with pytest.raises(UntrustedCertificateError) as exc:
        validator.validate(der(late), "auth", at=anchor.not_after + timedelta(days=1))
    assert exc.value.reason == "anchor-expired"


def test_revocation_is_asked_on_every_hit(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    source = Counting()
    validator = CertificateValidator(TrustStore(auth_pki.anchors), revocation=source)
    for _ in range(3):
        validator.validate(der(cert), "auth", at=NOW)
    assert source.calls == 3
    source.revoked.add(cert.serial_number)
    with pytest.raises(CertificateRevokedError):
        validator.validate(der(cert), "auth", at=NOW)


def test_a_changed_certificate_never_hits(auth_pki: MiniPki) -> None:
    original = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    validator.validate(original, "auth", at=NOW)
    # Every single-byte change of a validated certificate is refused, remembered or not.
    for offset in range(0, len(original), 7):
        changed = bytearray(original)
        changed[offset] ^= 0x01
        with pytest.raises(ValidationError):
            validator.validate(bytes(changed), "auth", at=NOW)
    assert len(validator._paths) == 1


def test_kind_is_part_of_the_key(auth_pki: MiniPki) -> None:
    cert = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    validator.validate(cert, "auth", at=NOW)
    with pytest.raises(UntrustedCertificateError):
        validator.validate(cert, "sign", at=NOW)
    with pytest.raises(UntrustedCertificateError):
        validator.validate(cert, "auth-ca", at=NOW)


def test_cache_is_bounded_least_recently_used_first(auth_pki: MiniPki) -> None:
    certs = [der(auth_pki.issue()) for _ in range(3)]
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT, path_cache_size=2)
    for cert in certs:
        validator.validate(cert, "auth", at=NOW)
    assert len(validator._paths) == 2
    with pytest.raises(ValueError, match="negative"):
        CertificateValidator(TrustStore(auth_pki.anchors), path_cache_size=-1)


def test_new_trust_store_forgets_remembered_paths(auth_pki: MiniPki, sign_pki: MiniPki) -> None:
    cert = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    validator.validate(cert, "auth", at=NOW)
    validator.trust = TrustStore(sign_pki.anchors)
    with pytest.raises(UntrustedCertificateError):
        validator.validate(cert, "auth", at=NOW)


def test_validate_parsed_matches_validate(auth_pki: MiniPki) -> None:
    cert = der(auth_pki.issue())
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    parsed = validator.validate_parsed(parse_der(cert), CertKind.AUTH, at=NOW)
    plain = CertificateValidator(TrustStore(auth_pki.anchors), SOFT).validate(cert, "auth", at=NOW)
    assert parsed.serial == plain.serial and parsed.subject == plain.subject
    assert (
        parsed.common_name
        == x509.load_der_x509_certificate(cert)
        .subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0]
        .value
    )
    with pytest.raises(MalformedCertificateError):
        parse_der(b"\x30\x03\x02\x01\x01")


def test_pem_input_is_cached_and_checked_alike(auth_pki: MiniPki) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = auth_pki.issue()
    pem = cert.public_bytes(Encoding.PEM)
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    # The PEM answer is the DER answer (comparing two PEM calls with each other alone
    # could not tell a wrong answer from a right one), and a second PEM call is a hit:
    # the cache is keyed by the exact bytes, so PEM and DER take one entry each.
    from_pem = validator.validate(pem, "auth", at=NOW)
    assert from_pem.serial == cert.serial_number
    assert len(validator._paths) == 1
    assert validator.validate(pem, "auth", at=NOW) == from_pem
    assert len(validator._paths) == 1
    assert validator.validate(cert.public_bytes(Encoding.DER), "auth", at=NOW) == from_pem
    with pytest.raises(CertificateExpiredError):
        validator.validate(pem, "auth", at=NOW + timedelta(days=3650))
    anchor_pem = auth_pki.generations[0].cert.public_bytes(Encoding.PEM)
    assert validator.validate(anchor_pem, "auth-ca", at=NOW).revocation.status == "not-checked"


def test_signature_algorithm_inside_and_outside_must_agree(auth_pki: MiniPki) -> None:
    """cryptography's verify_directly_issued_by refuses a certificate whose outer
    signatureAlgorithm differs from the one in the TBS; the fast path must too."""
    original = der(auth_pki.issue())
    sha256_rsa = bytes.fromhex("06092a864886f70d01010b")
    sha384_rsa = bytes.fromhex("06092a864886f70d01010c")
    at = len(original) - len(original.rsplit(sha256_rsa, 1)[1]) - len(sha256_rsa)
    # Only the outer algorithm OID changes (same length): TBS and signature untouched.
    changed = original[:at] + sha384_rsa + original[at + len(sha384_rsa) :]
    parts = signed_parts(changed)
    assert parts.tbs == signed_parts(original).tbs and parts.algorithm != parts.tbs_algorithm
    validator = CertificateValidator(TrustStore(auth_pki.anchors), SOFT)
    with pytest.raises(UntrustedCertificateError) as exc:
        validator.validate(changed, "auth", at=NOW)
    assert exc.value.reason == "bad-signature"
    cert = x509.load_der_x509_certificate(original)
    anchor = TrustStore(auth_pki.anchors).issuer_of(cert)
    assert signed_by(cert, signed_parts(original), anchor)
    assert not signed_by(cert, parts, anchor)


def test_signed_by_needs_the_issuer_key_and_name(auth_pki: MiniPki, sign_pki: MiniPki) -> None:
    original = auth_pki.issue()
    parts = signed_parts(der(original))
    other_generation = TrustAnchor.from_der(auth_pki.generations[1].der)
    other_ca = TrustAnchor.from_der(sign_pki.generations[0].der)
    assert not signed_by(original, parts, other_generation)
    assert not signed_by(original, parts, other_ca)


def test_known_pointers_decide_like_the_certificate(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    store = CrlStore()
    trust = TrustStore(auth_pki.anchors)
    store.load(auth_pki.crl(revoked=[(cert.serial_number, NOW, None)]), trust, at=NOW)
    checker = RevocationChecker(RevocationPolicy(sources=("crl",)), crl_store=store)
    anchor = trust.issuer_of(cert)
    for pointers in (None, revocation_pointers(cert)):
        with pytest.raises(CertificateRevokedError):
            checker.check(cert, anchor, at=NOW, pointers=pointers)


def test_a_path_verified_across_a_trust_change_is_not_remembered(
    auth_pki: MiniPki, sign_pki: MiniPki
) -> None:
    """Another thread replacing the trust store while a validation runs: that
    validation's path (checked against the old store) must not be stored afterwards."""
    cert = der(auth_pki.issue())

    class SwappedMidway(TrustStore):
        def issuer_of(self, cert: x509.Certificate, parts: object = None) -> TrustAnchor:
            anchor = super().issuer_of(cert, parts)  # type: ignore[arg-type]
            validator.trust = TrustStore(sign_pki.anchors)
            return anchor

    validator = CertificateValidator(SwappedMidway(auth_pki.anchors), SOFT)
    validator.validate(cert, "auth", at=NOW)  # decided under the store it started with
    assert len(validator._paths) == 0
    with pytest.raises(UntrustedCertificateError):
        validator.validate(cert, "auth", at=NOW)
