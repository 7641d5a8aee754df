"""CertificateValidator + RevocationChecker: source order, fail-closed combinations,
soft-fail recording, CRL fetching by distribution point or configured location."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from jpki.validation import (
    CertificateRevokedError,
    CertificateValidator,
    CrlStore,
    InMemoryCrlFetcher,
    InMemoryOcspTransport,
    OcspClient,
    RevocationChecker,
    RevocationPolicy,
    RevocationUnknownError,
    TrustStore,
)
from jpki.validation.policy import RevocationSource
from tests.jpki.conftest import CRL_BASE, NOW, MiniPki, der, partition_name

TSUKUBA = partition_name("auth", "Tsukuba-shi")
TSUKUBA_URL = CRL_BASE + "Tsukuba-shi_CRLDP"


class Responder:
    def __init__(self, pki: MiniPki, status: str = "good", generation: int = 0) -> None:
        self.pki, self.status, self.generation = pki, status, generation
        self.down = False

    def __call__(self, request_der: bytes) -> bytes:
        if self.down:
            raise ConnectionError("responder down")
        req = ocsp.load_der_ocsp_request(request_der)
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        cert = self.pki.issued[req.serial_number]
        return self.pki.ocsp_response(
            cert, status=self.status, nonce=nonce, generation=self.generation
        )


def make(
    pki: MiniPki,
    *,
    sources: tuple[RevocationSource, ...] = ("ocsp", "crl"),
    mode: str = "hard-fail",
    responder: Responder | None = None,
    crls: dict[str, bytes] | None = None,
    locations: dict[str, str] | None = None,
) -> tuple[CertificateValidator, InMemoryOcspTransport, InMemoryCrlFetcher]:
    policy = RevocationPolicy(mode=mode, sources=sources)  # type: ignore[arg-type]
    transport = InMemoryOcspTransport(responder or Responder(pki))
    fetcher = InMemoryCrlFetcher(crls or {})
    checker = RevocationChecker(
        policy,
        crl_store=CrlStore(),
        crl_fetcher=fetcher,
        ocsp=OcspClient(transport),
        crl_locations=locations,
        retry_after=0,
    )
    return CertificateValidator(TrustStore(pki.anchors), policy, checker), transport, fetcher


def test_ocsp_good_first(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    validator, transport, fetcher = make(auth_pki)
    result = validator.validate(der(cert), "auth", at=NOW)
    assert result.revocation.status == "good" and result.revocation.source == "ocsp"
    assert result.revocation.next_update is not None
    assert len(transport.requests) == 1 and not fetcher.fetched


def test_crl_first_when_configured(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    validator, transport, fetcher = make(
        auth_pki, sources=("crl", "ocsp"), crls={TSUKUBA_URL: auth_pki.crl()}
    )
    result = validator.validate(der(cert), "auth", at=NOW)
    assert result.revocation.source == "crl" and result.revocation.status == "good"
    assert fetcher.fetched == [TSUKUBA_URL] and not transport.requests
    # the held CRL answers the next check without fetching again
    validator.validate(der(auth_pki.issue()), "auth", at=NOW)
    assert fetcher.fetched == [TSUKUBA_URL]


def test_ocsp_down_falls_back_to_crl(auth_pki: MiniPki) -> None:
    responder = Responder(auth_pki)
    responder.down = True
    cert = auth_pki.issue()
    validator, _, _ = make(auth_pki, responder=responder, crls={TSUKUBA_URL: auth_pki.crl()})
    assert validator.validate(der(cert), "auth", at=NOW).revocation.source == "crl"


def test_ocsp_unknown_falls_back_and_crl_says_revoked(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    crl = auth_pki.crl(
        revoked=[(cert.serial_number, NOW - timedelta(days=1), x509.ReasonFlags.key_compromise)]
    )
    validator, _, _ = make(
        auth_pki, responder=Responder(auth_pki, "unknown"), crls={TSUKUBA_URL: crl}
    )
    with pytest.raises(CertificateRevokedError) as info:
        validator.validate(der(cert), "auth", at=NOW)
    assert info.value.source == "crl" and info.value.reason == "keyCompromise"
    assert info.value.serial == cert.serial_number and info.value.code == "CERT_REVOKED"


def test_ocsp_revoked(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    validator, _, fetcher = make(auth_pki, responder=Responder(auth_pki, "revoked"))
    with pytest.raises(CertificateRevokedError) as info:
        validator.validate(der(cert), "auth", at=NOW)
    assert info.value.source == "ocsp" and not fetcher.fetched


def test_nothing_answers_hard_and_soft(auth_pki: MiniPki) -> None:
    responder = Responder(auth_pki)
    responder.down = True
    cert = auth_pki.issue()
    validator, _, fetcher = make(auth_pki, responder=responder)
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(cert), "auth", at=NOW)
    sources = [s for s, _ in info.value.reasons]
    assert sources == ["ocsp", "crl"]
    assert "FETCH_NETWORK" in info.value.reasons[0][1]
    assert "FETCH_NOT_FOUND" in info.value.reasons[1][1]
    assert fetcher.fetched == [TSUKUBA_URL]
    soft, _, _ = make(auth_pki, responder=responder, mode="soft-fail")
    result = soft.validate(der(cert), "auth", at=NOW)
    assert result.revocation.status == "not-checked" and result.revocation.source is None
    assert "FETCH_NETWORK" in (result.revocation.soft_fail_reason or "")


def test_soft_fail_still_refuses_revoked(auth_pki: MiniPki) -> None:
    validator, _, _ = make(auth_pki, responder=Responder(auth_pki, "revoked"), mode="soft-fail")
    with pytest.raises(CertificateRevokedError):
        validator.validate(der(auth_pki.issue()), "auth", at=NOW)


@pytest.mark.parametrize(
    ("crl_kwargs", "why"),
    [
        ({"partition": partition_name("auth", "Mito-shi")}, "CRL_PARTITION"),
        (
            {"this_update": NOW - timedelta(days=3), "next_update": NOW - timedelta(days=1)},
            "CRL_EXPIRED",
        ),
        ({"this_update": NOW + timedelta(hours=1)}, "CRL_NOT_YET_VALID"),
        ({"generation": 1}, "CRL_ISSUER"),  # signed by the other same-DN generation
        ({"signer": "rogue", "with_aki": False}, "CRL_SIGNATURE"),
    ],
)
def test_unusable_crl_cannot_decide(
    auth_pki: MiniPki, crl_kwargs: dict[str, object], why: str
) -> None:
    kwargs = dict(crl_kwargs)
    if kwargs.get("signer") == "rogue":
        kwargs["signer"] = auth_pki.rogue
    crl = auth_pki.crl(**kwargs)  # type: ignore[arg-type]
    validator, _, _ = make(auth_pki, sources=("crl",), crls={TSUKUBA_URL: crl})
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(auth_pki.issue(generation=0)), "auth", at=NOW)
    assert why in info.value.reasons[0][1]


def test_configured_location_wins_over_the_certificate(auth_pki: MiniPki) -> None:
    validator, _, fetcher = make(
        auth_pki,
        sources=("crl",),
        crls={"file:///crl/tsukuba.crl": auth_pki.crl()},
        locations={TSUKUBA.rfc4514_string(): "file:///crl/tsukuba.crl"},
    )
    assert validator.validate(der(auth_pki.issue()), "auth", at=NOW).revocation.source == "crl"
    assert fetcher.fetched == ["file:///crl/tsukuba.crl"]


def test_expired_held_crl_is_fetched_again(auth_pki: MiniPki) -> None:
    first = auth_pki.crl(
        number=1, this_update=NOW - timedelta(hours=1), next_update=NOW + timedelta(hours=1)
    )
    validator, _, fetcher = make(auth_pki, sources=("crl",), crls={TSUKUBA_URL: first})
    cert = auth_pki.issue()
    validator.validate(der(cert), "auth", at=NOW)
    later = NOW + timedelta(hours=2)
    fetcher.crls[TSUKUBA_URL] = auth_pki.crl(
        number=2,
        this_update=later - timedelta(minutes=1),
        next_update=later + timedelta(days=1),
        revoked=[(cert.serial_number, later - timedelta(minutes=30), None)],
    )
    with pytest.raises(CertificateRevokedError) as info:
        validator.validate(der(cert), "auth", at=later)
    assert info.value.reason is None
    assert fetcher.fetched == [TSUKUBA_URL, TSUKUBA_URL]


def test_replayed_older_crl_is_refused(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    newer = auth_pki.crl(
        number=5, revoked=[(cert.serial_number, NOW, None)], next_update=NOW + timedelta(hours=1)
    )
    validator, _, fetcher = make(auth_pki, sources=("crl",), crls={TSUKUBA_URL: newer})
    with pytest.raises(CertificateRevokedError):
        validator.validate(der(cert), "auth", at=NOW)
    # an attacker serves an older CRL that does not list the certificate
    fetcher.crls[TSUKUBA_URL] = auth_pki.crl(number=4, next_update=NOW + timedelta(days=9))
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(cert), "auth", at=NOW + timedelta(hours=2))
    assert "CRL_NUMBER_REGRESSION" in info.value.reasons[0][1]


def test_failed_fetch_is_not_retried_at_once(auth_pki: MiniPki) -> None:
    policy = RevocationPolicy(sources=("crl",))
    fetcher = InMemoryCrlFetcher()
    checker = RevocationChecker(policy, crl_fetcher=fetcher, retry_after=60)
    validator = CertificateValidator(TrustStore(auth_pki.anchors), policy, checker)
    for _ in range(3):
        with pytest.raises(RevocationUnknownError):
            validator.validate(der(auth_pki.issue()), "auth", at=NOW)
    assert len(fetcher.fetched) == 1


def test_no_fetcher_and_no_ocsp(auth_pki: MiniPki) -> None:
    policy = RevocationPolicy()
    validator = CertificateValidator(
        TrustStore(auth_pki.anchors), policy, RevocationChecker(policy)
    )
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(auth_pki.issue()), "auth", at=NOW)
    assert [r.split(":")[0] for _, r in info.value.reasons] == [
        "OCSP_NOT_CONFIGURED",
        "CRL_NOT_HELD",
    ]


class SlowFetcher(InMemoryCrlFetcher):
    """Counts fetches and holds each one a little, so concurrent checks overlap."""

    def fetch(self, url: str) -> bytes:
        time.sleep(0.05)
        return super().fetch(url)


def test_concurrent_checks_fetch_a_partition_once(auth_pki: MiniPki) -> None:
    fetcher = SlowFetcher({TSUKUBA_URL: auth_pki.crl()})
    policy = RevocationPolicy(sources=("crl",))
    checker = RevocationChecker(policy, crl_fetcher=fetcher, retry_after=0)
    validator = CertificateValidator(TrustStore(auth_pki.anchors), policy, checker)
    certs = [der(auth_pki.issue()) for _ in range(8)]
    results: list[str] = []
    errors: list[BaseException] = []

    def check(cert: bytes) -> None:
        try:
            results.append(validator.validate(cert, "auth", at=NOW).revocation.status)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=check, args=(c,)) for c in certs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == ["good"] * len(certs)
    assert fetcher.fetched == [TSUKUBA_URL]


def test_a_laxer_ocsp_client_than_the_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="nonce"):
        RevocationChecker(RevocationPolicy(), ocsp=OcspClient(require_nonce=False))
    lax = RevocationChecker(
        RevocationPolicy(require_nonce=False), ocsp=OcspClient(require_nonce=False)
    )
    assert lax.ocsp is not None


def test_with_defaults_follows_the_policy(tmp_path: Path) -> None:
    policy = RevocationPolicy(
        ocsp_timeout=1.5, require_nonce=False, ocsp_max_age=timedelta(minutes=20)
    )
    checker = RevocationChecker.with_defaults(policy, crl_directory=str(tmp_path))
    assert checker.ocsp is not None and checker.ocsp.timeout == 1.5
    assert not checker.ocsp.require_nonce and checker.ocsp.max_age == timedelta(minutes=20)
    assert checker.crl_store.directory == tmp_path


class BrokenFetcher:
    def fetch(self, url: str) -> bytes:
        raise RuntimeError("bug in a fetcher")


def test_unexpected_source_failure_is_cannot_decide(auth_pki: MiniPki) -> None:
    policy = RevocationPolicy(sources=("crl",))
    checker = RevocationChecker(policy, crl_fetcher=BrokenFetcher(), retry_after=0)
    validator = CertificateValidator(TrustStore(auth_pki.anchors), policy, checker)
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(auth_pki.issue()), "auth", at=NOW)
    assert "SOURCE_FAILED: RuntimeError" in info.value.reasons[0][1]


def test_unusable_ocsp_url_is_a_fetch_error(auth_pki: MiniPki) -> None:
    from jpki.validation import HttpOcspTransport

    policy = RevocationPolicy(sources=("ocsp",))
    cert = auth_pki.issue(ocsp_url="http://[not-a-host/")
    checker = RevocationChecker(policy, ocsp=OcspClient(HttpOcspTransport(), timeout=1))
    validator = CertificateValidator(TrustStore(auth_pki.anchors), policy, checker)
    with pytest.raises(RevocationUnknownError) as info:
        validator.validate(der(cert), "auth", at=NOW)
    assert info.value.reasons[0][1].startswith("FETCH_")
