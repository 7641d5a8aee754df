"""The validator against the project's test PKI over HTTP: OCSP and CRL from its server,
both CA generations, revocation, and agreement with `openssl verify -crl_check`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.validation import (
    CertificateRevokedError,
    CertificateValidator,
    CrlStore,
    HttpCrlFetcher,
    OcspClient,
    RevocationChecker,
    RevocationPolicy,
    RevocationUnknownError,
    TrustStore,
)
from jpki.validation.certinfo import revocation_pointers
from jpki.validation.policy import RevocationSource
from simulators.personas import get_persona
from simulators.pki import PkiServer, TestPki, serve
from tests.conftest import require_or_skip

pytestmark = pytest.mark.slow


@dataclass
class Live:
    pki: TestPki
    server: PkiServer
    keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
    trust: TrustStore

    def card(
        self, persona: str = "yamada-taro", generation: str | None = None
    ) -> tuple[bytes, bytes]:
        issued = self.pki.issue_card(
            get_persona(persona),
            self.keys[0].public_key(),
            self.keys[1].public_key(),
            generation=generation,
        )
        return issued.auth_cert, issued.sign_cert


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    pki = TestPki.open_or_create(tmp_path_factory.mktemp("vpki"))
    server = serve(pki, port=0)
    pki.set_base_url(server.url)  # certificates issued from now on name this server
    keys = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    trust = TrustStore([*pki.trust_anchors("auth"), *pki.trust_anchors("sign")])
    try:
        yield Live(pki, server, keys, trust)
    finally:
        server.stop()


def validator(
    live: Live, sources: tuple[RevocationSource, ...], tmp: Path | None = None
) -> CertificateValidator:
    policy = RevocationPolicy(sources=sources)
    checker = RevocationChecker(
        policy,
        crl_store=CrlStore(tmp),
        crl_fetcher=HttpCrlFetcher(timeout=5),
        ocsp=OcspClient(timeout=5, cache=False),
        retry_after=0,
    )
    return CertificateValidator(live.trust, policy, checker)


@pytest.mark.parametrize("sources", [("ocsp",), ("crl",)])
def test_good_then_revoked_over_http(
    live: Live, sources: tuple[RevocationSource, ...], tmp_path: Path
) -> None:
    auth, sign = live.card()
    for der, kind in ((auth, "auth"), (sign, "sign")):
        result = validator(live, sources, tmp_path).validate(der, kind)
        assert result.revocation.status == "good"
        assert result.revocation.source == sources[0]
        assert result.anchor_sha256 in {a.sha256 for a in live.trust.anchors}
    serial = x509.load_der_x509_certificate(auth).serial_number
    live.pki.revoke(serial, "loss")
    with pytest.raises(CertificateRevokedError) as info:
        validator(live, sources, tmp_path / "after").validate(auth, "auth")
    assert info.value.source == sources[0]
    assert info.value.reason == "keyCompromise"  # the RFC 5280 name from either source


def test_older_generation_card(live: Live, tmp_path: Path) -> None:
    older = live.pki.generations("auth")[0].name
    auth, _ = live.card("sato-hanako", generation=older)
    cert = x509.load_der_x509_certificate(auth)
    older_der = live.pki.ca_certificate("auth", older)
    for sources in (("ocsp",), ("crl",)):
        result = validator(live, sources, tmp_path / sources[0]).validate(auth, "auth")
        assert result.anchor_sha256 == TrustStore([older_der]).anchors[0].sha256
        assert result.revocation.status == "good"
    assert any("generation=" in u for u in revocation_pointers(cert).crl_urls)


def test_server_down_cannot_decide(live: Live, tmp_path: Path) -> None:
    pki = TestPki.open_or_create(tmp_path / "down")
    server = serve(pki, port=0)
    pki.set_base_url(server.url)
    issued = pki.issue_card(
        get_persona("yamada-taro"), live.keys[0].public_key(), live.keys[1].public_key()
    )
    server.stop()
    trust = TrustStore(pki.trust_anchors("auth"))
    policy = RevocationPolicy()
    checker = RevocationChecker(
        policy, crl_fetcher=HttpCrlFetcher(timeout=2), ocsp=OcspClient(timeout=2), retry_after=0
    )
    with pytest.raises(RevocationUnknownError) as info:
        CertificateValidator(trust, policy, checker).validate(issued.auth_cert, "auth")
    assert [s for s, _ in info.value.reasons] == ["ocsp", "crl"]
    assert all("FETCH_" in why for _, why in info.value.reasons)


def _pem(der: bytes, label: str) -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def test_openssl_agrees_on_good_and_revoked(live: Live, tmp_path: Path) -> None:
    require_or_skip(shutil.which("openssl") is not None, "openssl is not installed")
    good, _ = live.card("suzuki-aoi")
    revoked, _ = live.card("suzuki-aoi")
    live.pki.revoke(x509.load_der_x509_certificate(revoked).serial_number, "loss")
    anchors = tmp_path / "anchors.pem"
    anchors.write_text("".join(_pem(d, "CERTIFICATE") for d in live.pki.trust_anchors("auth")))
    ours = validator(live, ("crl",), tmp_path / "store")
    for der, expect_ok in ((good, True), (revoked, False)):
        cert = x509.load_der_x509_certificate(der)
        url = revocation_pointers(cert).crl_urls[0]
        crl = HttpCrlFetcher(timeout=5).fetch(url)
        (tmp_path / "crl.pem").write_text(_pem(crl, "X509 CRL"))
        (tmp_path / "cert.pem").write_text(_pem(der, "CERTIFICATE"))
        run = subprocess.run(
            [
                "openssl",
                "verify",
                "-crl_check",
                "-CAfile",
                str(anchors),
                "-CRLfile",
                str(tmp_path / "crl.pem"),
                str(tmp_path / "cert.pem"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        openssl_ok = run.returncode == 0
        try:
            ours.validate(der, "auth")
            ours_ok = True
        except CertificateRevokedError:
            ours_ok = False
        assert openssl_ok == ours_ok == expect_ok, run.stdout + run.stderr
        if not expect_ok:
            assert "revoked" in (run.stdout + run.stderr)
    assert cert.public_bytes(Encoding.DER) == revoked
