"""Path validation: parse, validity, issuer generation, signature, kind fitness, and the
revocation verdict when no checker is configured (hard- and soft-fail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from jpki.constants import CertKind
from jpki.validation import (
    CertificateExpiredError,
    CertificateValidator,
    MalformedCertificateError,
    RevocationPolicy,
    RevocationUnknownError,
    TrustStore,
    UntrustedCertificateError,
)
from tests.jpki.conftest import NOW, MiniPki, der

# Copies of the project's public J-LIS data (public J-LIS certificates and a public test vector).
REAL = Path(__file__).parent / "data"
SOFT = RevocationPolicy(mode="soft-fail")


def validator(pki: MiniPki, policy: RevocationPolicy = SOFT) -> CertificateValidator:
    return CertificateValidator(TrustStore(pki.anchors), policy, None)


def test_good_auth_cert_chains_to_its_generation(auth_pki: MiniPki) -> None:
    for generation in (0, 1):
        cert = auth_pki.issue(generation=generation)
        result = validator(auth_pki).validate(der(cert), CertKind.AUTH, at=NOW)
        gen_cert = auth_pki.generations[generation].cert
        assert (
            result.issuer_key_id
            == x509.SubjectKeyIdentifier.from_public_key(gen_cert.public_key()).digest
        )
        assert result.serial == cert.serial_number
        assert result.revocation.status == "not-checked"
        assert "no revocation source" in (result.revocation.soft_fail_reason or "")


def test_same_dn_without_aki_is_found_by_signature(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(generation=1, with_aki=False)
    result = validator(auth_pki).validate(der(cert), "auth", at=NOW)
    assert result.anchor_sha256 == TrustStore([auth_pki.generations[1].der]).anchors[0].sha256


def test_rogue_same_dn_issuer_is_untrusted(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(signer=auth_pki.rogue)  # AKI names the rogue key
    with pytest.raises(UntrustedCertificateError) as info:
        validator(auth_pki).validate(der(cert), "auth", at=NOW)
    assert info.value.reason == "unknown-issuer"
    assert info.value.code == "CERT_UNTRUSTED"


def test_aki_of_a_generation_but_signed_by_another_key_is_bad_signature(auth_pki: MiniPki) -> None:
    # AKI says generation 0, the signature is by the rogue key with the same DN.
    cert = auth_pki.issue(generation=0, signer=auth_pki.rogue)
    forged = auth_pki.issue(generation=0)
    assert forged  # a genuine one validates; the rogue-signed one with a lying AKI must not
    from cryptography.hazmat.primitives import hashes

    builder = x509.CertificateBuilder(
        issuer_name=cert.issuer,
        subject_name=cert.subject,
        public_key=cert.public_key(),
        serial_number=cert.serial_number,
        not_valid_before=cert.not_valid_before_utc,
        not_valid_after=cert.not_valid_after_utc,
        extensions=[
            e
            if not isinstance(e.value, x509.AuthorityKeyIdentifier)
            else x509.Extension(
                e.oid,
                e.critical,
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    auth_pki.generations[0].key.public_key()
                ),
            )
            for e in cert.extensions
        ],
    )
    lying = builder.sign(auth_pki.rogue.key, hashes.SHA256())
    with pytest.raises(UntrustedCertificateError) as info:
        validator(auth_pki).validate(der(lying), "auth", at=NOW)
    assert info.value.reason == "bad-signature"


def test_other_ca_is_untrusted(auth_pki: MiniPki, sign_pki: MiniPki) -> None:
    cert = sign_pki.issue()
    with pytest.raises(UntrustedCertificateError):
        validator(auth_pki).validate(der(cert), "sign", at=NOW)


def test_validity_window(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(not_before=NOW - timedelta(days=2), not_after=NOW - timedelta(days=1))
    with pytest.raises(CertificateExpiredError) as info:
        validator(auth_pki).validate(der(cert), "auth", at=NOW)
    assert info.value.at == NOW and info.value.not_after < NOW
    assert info.value.code == "CERT_EXPIRED"
    future = auth_pki.issue(not_before=NOW + timedelta(days=1))
    with pytest.raises(CertificateExpiredError, match="not yet valid"):
        validator(auth_pki).validate(der(future), "auth", at=NOW)
    # A naive instant is taken as UTC.
    ok = validator(auth_pki).validate(
        der(future), "auth", at=(NOW + timedelta(days=2)).replace(tzinfo=None)
    )
    assert ok.validated_at.tzinfo is not None


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"ku": {"key_encipherment": True}}, "key-usage"),
        ({"eku": [ExtendedKeyUsageOID.SERVER_AUTH]}, "extended-key-usage"),
        ({"eku": []}, "extended-key-usage"),
        ({"policy": "1.2.392.200149.8.5.1.1.20"}, "policy"),
        ({"ca": True}, "is-ca"),
        (
            {
                "extra": [
                    (
                        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"),
                        True,
                    )
                ]
            },
            "unknown-critical-extension",
        ),
    ],
)
def test_auth_kind_requirements(auth_pki: MiniPki, kwargs: dict[str, object], reason: str) -> None:
    cert = auth_pki.issue(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(UntrustedCertificateError) as info:
        validator(auth_pki).validate(der(cert), "auth", at=NOW)
    assert info.value.reason == reason


def test_sign_kind_requirements(sign_pki: MiniPki) -> None:
    good = sign_pki.issue()
    assert validator(sign_pki).validate(der(good), CertKind.SIGN, at=NOW).kind is CertKind.SIGN
    no_nr = sign_pki.issue(ku={"digital_signature": True})
    with pytest.raises(UntrustedCertificateError) as info:
        validator(sign_pki).validate(der(no_nr), "sign", at=NOW)
    assert info.value.reason == "key-usage"
    wrong_policy = sign_pki.issue(policy="1.2.392.200149.8.5.1.3.30")
    with pytest.raises(UntrustedCertificateError, match="policy"):
        validator(sign_pki).validate(der(wrong_policy), "sign", at=NOW)
    # an auth certificate is not a sign certificate
    auth_shaped = sign_pki.issue(kind="auth")
    with pytest.raises(UntrustedCertificateError):
        validator(sign_pki).validate(der(auth_shaped), "sign", at=NOW)


def test_ca_kind_accepts_only_an_anchor(auth_pki: MiniPki) -> None:
    v = validator(auth_pki)
    result = v.validate(auth_pki.generations[1].der, CertKind.AUTH_CA, at=NOW)
    assert result.revocation.status == "not-checked"
    with pytest.raises(UntrustedCertificateError):
        v.validate(auth_pki.rogue.der, CertKind.AUTH_CA, at=NOW)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x30\x03\x02\x01\x01",
        b"garbage" * 10,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_garbage_is_malformed(auth_pki: MiniPki, blob: bytes) -> None:
    with pytest.raises(MalformedCertificateError) as info:
        validator(auth_pki).validate(blob, "auth", at=NOW)
    assert info.value.code == "CERT_MALFORMED"


def test_hard_fail_without_revocation_source_cannot_decide(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    v = validator(auth_pki, RevocationPolicy())
    with pytest.raises(RevocationUnknownError) as info:
        v.validate(der(cert), "auth", at=NOW)
    assert info.value.serial == cert.serial_number
    assert info.value.reasons and info.value.code == "REVOCATION_UNKNOWN"


def test_policy_rejects_nonsense() -> None:
    # Each refusal names its own reason: a bare ValueError from anywhere would not do.
    with pytest.raises(ValueError, match="unknown revocation mode"):
        RevocationPolicy(mode="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty subset"):
        RevocationPolicy(sources=())
    with pytest.raises(ValueError, match="must not repeat"):
        RevocationPolicy(sources=("crl", "crl"))
    with pytest.raises(ValueError, match="timeouts must be positive"):
        RevocationPolicy(ocsp_timeout=0)


# --- the real J-LIS certificate -------------------------------------------------------


def _real(name: str) -> bytes:
    return der(x509.load_pem_x509_certificate((REAL / name).read_bytes()))


@pytest.fixture(scope="module")
def real_auth() -> bytes:
    return _real("auth_real.pem")


def test_real_cert_chains_to_2015_generation_not_2023(real_auth: bytes) -> None:
    trust = TrustStore.from_pem_files([REAL / "auth_ca_2023.pem", REAL / "auth_ca_2015.pem"])
    result = CertificateValidator(trust, SOFT).validate(
        real_auth, "auth", at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert result.issuer_key_id.hex() == "9567951b5ca70d84a0fff1d85a87f1aab1340385"
    assert "2015" in result.anchor
    assert result.serial == 0x12D57CA
    only_2023 = TrustStore.from_pem_files([REAL / "auth_ca_2023.pem"])
    with pytest.raises(UntrustedCertificateError):
        CertificateValidator(only_2023, SOFT).validate(
            real_auth, "auth", at=datetime(2020, 1, 1, tzinfo=UTC)
        )


def test_real_cert_expiry_and_hard_fail(real_auth: bytes) -> None:
    trust = TrustStore.jpki_production(CertKind.AUTH)
    assert len(trust) == 2
    with pytest.raises(CertificateExpiredError):
        CertificateValidator(trust).validate(real_auth, "auth", at=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(RevocationUnknownError):
        CertificateValidator(trust, RevocationPolicy()).validate(
            real_auth, "auth", at=datetime(2020, 1, 1, tzinfo=UTC)
        )
    soft = CertificateValidator(trust, SOFT).validate(
        real_auth, "auth", at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert soft.revocation.status == "not-checked"
    assert soft.revocation.soft_fail_reason


def test_real_cert_is_not_a_sign_cert(real_auth: bytes) -> None:
    trust = TrustStore.jpki_production("auth")
    with pytest.raises(UntrustedCertificateError):
        CertificateValidator(trust, SOFT).validate(
            real_auth, "sign", at=datetime(2020, 1, 1, tzinfo=UTC)
        )


def test_production_anchors_are_the_real_ones() -> None:
    for kind in ("auth", "sign", "sign-ca"):
        store = TrustStore.jpki_production(kind)
        assert {a.not_before.year for a in store.anchors} == {2015, 2023}
        assert len({a.subject for a in store.anchors}) == 1


def test_anchor_must_be_a_ca(auth_pki: MiniPki) -> None:
    ee = auth_pki.issue()
    with pytest.raises(UntrustedCertificateError):
        TrustStore([der(ee)])
    with pytest.raises(MalformedCertificateError):
        TrustStore([b"nope"])


def test_real_cert_when_no_source_answers(real_auth: bytes) -> None:
    """OCSP (its real AIA URL, answered here by a transport that never connects) and CRL
    (a directoryName DP only: nowhere to fetch) both fail: cannot decide, never good."""
    from jpki.validation import (
        FetchError,
        InMemoryCrlFetcher,
        InMemoryOcspTransport,
        OcspClient,
        RevocationChecker,
    )

    seen: list[bytes] = []

    def unreachable(request_der: bytes) -> bytes:
        seen.append(request_der)
        raise FetchError("ocspauthnorm.jpki.go.jp: unreachable", reason_code="FETCH_NETWORK")

    trust = TrustStore.jpki_production("auth")
    at = datetime(2020, 1, 1, tzinfo=UTC)
    for mode in ("hard-fail", "soft-fail"):
        policy = RevocationPolicy(mode=mode)  # type: ignore[arg-type]
        checker = RevocationChecker(
            policy,
            ocsp=OcspClient(InMemoryOcspTransport(unreachable)),
            crl_fetcher=InMemoryCrlFetcher(),
        )
        validator = CertificateValidator(trust, policy, checker)
        if mode == "hard-fail":
            with pytest.raises(RevocationUnknownError) as info:
                validator.validate(real_auth, "auth", at=at)
            assert [s for s, _ in info.value.reasons] == ["ocsp", "crl"]
            assert "FETCH_NETWORK" in info.value.reasons[0][1]
            assert "Tsukuba-shi CRLDP" in info.value.reasons[1][1]
        else:
            result = validator.validate(real_auth, "auth", at=at)
            assert result.revocation.status == "not-checked"
            assert "FETCH_NETWORK" in (result.revocation.soft_fail_reason or "")
    assert len(seen) == 2  # a real OCSP request was built for the real certificate
