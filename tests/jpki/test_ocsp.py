"""OcspClient: a response is accepted only when every part verifies; everything else is
a typed OcspError (cannot decide), never "good"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from jpki.validation import (
    FetchError,
    InMemoryOcspTransport,
    OcspClient,
    OcspError,
    TrustStore,
)
from jpki.validation.trust import TrustAnchor
from tests.jpki.conftest import NOW, OCSP_URL, MiniPki


def anchor(pki: MiniPki, generation: int = 0) -> TrustAnchor:
    return TrustStore(pki.anchors).anchors[generation]


def nonce_of(request_der: bytes) -> bytes:
    req = ocsp.load_der_ocsp_request(request_der)
    return req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce


def client_for(respond: Callable[[bytes], bytes], **kwargs: object) -> OcspClient:
    return OcspClient(InMemoryOcspTransport(respond), **kwargs)  # type: ignore[arg-type]


def test_good_signed_by_the_ca(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    transport = InMemoryOcspTransport(lambda req: auth_pki.ocsp_response(cert, nonce=nonce_of(req)))
    client = OcspClient(transport)
    answer = client.check(cert, anchor(auth_pki), at=NOW)
    assert answer.status == "good" and answer.responder == "ca" and not answer.cached
    request = ocsp.load_der_ocsp_request(transport.requests[0])
    assert request.serial_number == cert.serial_number
    assert isinstance(request.hash_algorithm, hashes.SHA1)
    # cached until nextUpdate: no second request
    again = client.check(cert, anchor(auth_pki), at=NOW + timedelta(minutes=1))
    assert again.cached and len(transport.requests) == 1
    # past nextUpdate (+skew) the cache is not used
    with pytest.raises(OcspError):
        client.check(cert, anchor(auth_pki), at=NOW + timedelta(minutes=30))
    assert len(transport.requests) == 2


def test_nonces_are_fresh_per_request(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    transport = InMemoryOcspTransport(lambda req: auth_pki.ocsp_response(cert, nonce=nonce_of(req)))
    client = OcspClient(transport, cache=False)
    client.check(cert, anchor(auth_pki), at=NOW)
    client.check(cert, anchor(auth_pki), at=NOW)
    first, second = (nonce_of(r) for r in transport.requests)
    assert first != second and len(first) == 32


def test_revoked(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    client = client_for(
        lambda req: auth_pki.ocsp_response(
            cert, status="revoked", nonce=nonce_of(req), revoked_at=NOW - timedelta(days=2)
        )
    )
    answer = client.check(cert, anchor(auth_pki), at=NOW)
    assert answer.status == "revoked" and answer.reason == "keyCompromise"
    assert answer.revoked_at == NOW - timedelta(days=2)


def test_delegated_responder_of_the_same_generation(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(generation=1)
    responder = auth_pki.responder(generation=1)
    client = client_for(
        lambda req: auth_pki.ocsp_response(
            cert, generation=1, responder=responder, nonce=nonce_of(req)
        )
    )
    answer = client.check(cert, anchor(auth_pki, 1), at=NOW)
    assert answer.status == "good" and answer.responder.startswith("CN=OCSP resp")


def _case(pki: MiniPki, name: str) -> tuple[x509.Certificate, Callable[[bytes], bytes]]:
    cert = pki.issue()
    other = pki.issue()

    def respond(req: bytes) -> bytes:
        n = nonce_of(req)
        if name == "unknown":
            return pki.ocsp_response(cert, status="unknown", nonce=n)
        if name == "wrong-nonce":
            return pki.ocsp_response(cert, nonce=b"\x01" * 32)
        if name == "no-nonce":
            return pki.ocsp_response(cert, nonce=None)
        if name == "other-serial":
            return pki.ocsp_response(other, nonce=n)
        if name == "other-generation-certid":
            return pki.ocsp_response(cert, nonce=n, issuer_for_certid=pki.generations[1].cert)
        if name == "signed-by-other-generation":  # CertID right, signature by gen 1's key
            return pki.ocsp_response(
                cert,
                nonce=n,
                issuer_for_certid=pki.generations[0].cert,
                responder=pki.generations[1],
                embed=False,
            )
        if name == "rogue-ca-signed":
            return pki.ocsp_response(cert, nonce=n, responder=pki.rogue, embed=True)
        if name == "responder-without-eku":
            return pki.ocsp_response(cert, nonce=n, responder=pki.responder(eku=False))
        if name == "responder-of-other-generation":
            return pki.ocsp_response(cert, nonce=n, responder=pki.responder(generation=1))
        if name == "responder-signed-by-rogue":
            return pki.ocsp_response(cert, nonce=n, responder=pki.responder(signer=pki.rogue))
        if name == "responder-not-embedded":
            return pki.ocsp_response(cert, nonce=n, responder=pki.responder(), embed=False)
        if name == "stale":
            return pki.ocsp_response(
                cert,
                nonce=n,
                this_update=NOW - timedelta(hours=3),
                next_update=NOW - timedelta(hours=1),
            )
        if name == "too-old-no-next-update":
            return pki.ocsp_response(
                cert, nonce=n, this_update=NOW - timedelta(hours=2), next_update=None
            )
        if name == "future":
            return pki.ocsp_response(
                cert,
                nonce=n,
                this_update=NOW + timedelta(hours=1),
                next_update=NOW + timedelta(hours=2),
            )
        if name == "try-later":
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.TRY_LATER
            ).public_bytes(serialization.Encoding.DER)
        if name == "garbage":
            return b"\x30\x03\x0a\x01\x00garbage"
        if name == "bit-flip":
            good = bytearray(pki.ocsp_response(cert, nonce=n))
            good[-10] ^= 0x40
            return bytes(good)
        raise AssertionError(name)

    return cert, respond


@pytest.mark.parametrize(
    ("name", "reason_code"),
    [
        ("unknown", "OCSP_UNKNOWN"),
        ("wrong-nonce", "OCSP_NONCE_MISMATCH"),
        ("no-nonce", "OCSP_NONCE_MISSING"),
        ("other-serial", "OCSP_CERTID_MISMATCH"),
        ("other-generation-certid", "OCSP_CERTID_MISMATCH"),
        ("signed-by-other-generation", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("rogue-ca-signed", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("responder-without-eku", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("responder-of-other-generation", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("responder-signed-by-rogue", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("responder-not-embedded", "OCSP_RESPONDER_NOT_AUTHORISED"),
        ("stale", "OCSP_STALE"),
        ("too-old-no-next-update", "OCSP_STALE"),
        ("future", "OCSP_NOT_YET_VALID"),
        ("try-later", "OCSP_STATUS"),
        ("garbage", "OCSP_MALFORMED"),
        ("bit-flip", "OCSP_SIGNATURE"),
    ],
)
def test_refusals(auth_pki: MiniPki, name: str, reason_code: str) -> None:
    cert, respond = _case(auth_pki, name)
    client = client_for(respond)
    with pytest.raises(OcspError) as info:
        client.check(cert, anchor(auth_pki), at=NOW)
    assert info.value.reason_code == reason_code, info.value.message
    assert info.value.code == "OCSP_UNUSABLE"


def test_nonce_optional_when_not_required(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    client = client_for(lambda req: auth_pki.ocsp_response(cert, nonce=None), require_nonce=False)
    assert client.check(cert, anchor(auth_pki), at=NOW).status == "good"
    # a wrong nonce is still refused
    client = client_for(
        lambda req: auth_pki.ocsp_response(cert, nonce=b"x" * 16), require_nonce=False
    )
    with pytest.raises(OcspError, match="nonce"):
        client.check(cert, anchor(auth_pki), at=NOW)


def test_no_url_and_transport_failure(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue(ocsp_url=None)
    with pytest.raises(OcspError) as info:
        client_for(lambda req: b"").check(cert, anchor(auth_pki), at=NOW)
    assert info.value.reason_code == "OCSP_NO_URL"

    def down(req: bytes) -> bytes:
        raise ConnectionError("refused")

    with pytest.raises(FetchError):
        client_for(down).check(auth_pki.issue(), anchor(auth_pki), url=OCSP_URL, at=NOW)


def test_unknown_is_not_cached(auth_pki: MiniPki) -> None:
    cert = auth_pki.issue()
    transport = InMemoryOcspTransport(
        lambda req: auth_pki.ocsp_response(cert, status="unknown", nonce=nonce_of(req))
    )
    client = OcspClient(transport)
    for _ in range(2):
        with pytest.raises(OcspError):
            client.check(cert, anchor(auth_pki), at=NOW)
    assert len(transport.requests) == 2
