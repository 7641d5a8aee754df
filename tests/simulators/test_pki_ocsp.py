"""Test PKI: the OCSP responder (RFC 6960) in process and over HTTP, checked with
cryptography, asn1crypto and the real `openssl ocsp` client."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.pki import PkiServer, TestPki
from simulators.pki.certs import (
    CardCertificateRequest,
    build_ca_certificate,
    build_card_certificate,
)
from simulators.pki.names import Partition
from tests.simulators.test_pki_support import (
    card_key,
    clean_pki_dir,
    issue,
    openssl,
    pki,
    served_pki,
    write_pem,
)

__all__ = ["clean_pki_dir", "pki", "served_pki"]

NONCE_OID = x509.OCSPNonce.oid


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())  # noqa: S303 - OCSP's default
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def _verify_signed_by(response: ocsp.OCSPResponse, responder: x509.Certificate) -> None:
    key = responder.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256())


def test_good_then_revoked_with_time_and_reason(pki: TestPki) -> None:
    auth, _ = issue(pki)
    ca = pki.generation("auth").certificate
    now = _now()
    response = ocsp.load_der_ocsp_response(
        pki.ocsp_response(_request(auth, ca, nonce=b"n" * 16), now=now)
    )
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == auth.serial_number
    assert response.produced_at_utc == now
    assert response.this_update_utc == now
    assert response.next_update_utc == now + dt.timedelta(minutes=15)
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    responder = x509.load_der_x509_certificate(pki.ocsp_responder_certificate("auth"))
    assert response.certificates == [responder]
    responder_key = responder.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1)
    assert response.responder_key_hash == hashlib.sha1(responder_key).digest()  # noqa: S324
    _verify_signed_by(response, responder)

    revoked_at = now - dt.timedelta(minutes=1)
    pki.revoke(auth.serial_number, "loss", at=revoked_at)
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(_request(auth, ca), now=now))
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at
    assert response.revocation_reason is x509.ReasonFlags.key_compromise
    with pytest.raises(x509.ExtensionNotFound):  # no nonce asked, none echoed
        response.extensions.get_extension_for_oid(NONCE_OID)
    # Before the revocation time, the same certificate was good.
    earlier = ocsp.load_der_ocsp_response(
        pki.ocsp_response(_request(auth, ca), now=revoked_at - dt.timedelta(seconds=1))
    )
    assert earlier.certificate_status is ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize(
    "algorithm",
    [hashes.SHA1(), hashes.SHA256(), hashes.SHA512()],  # noqa: S303 - CertID hashes
)
def test_cert_id_hash_algorithms(pki: TestPki, algorithm: hashes.HashAlgorithm) -> None:
    _, sign = issue(pki)
    request = _request(sign, pki.generation("sign").certificate, algorithm=algorithm)
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(request, kind="sign"))
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.hash_algorithm.name == algorithm.name


def test_unknown_for_never_issued_serial_other_kind_and_wrong_generation(pki: TestPki) -> None:
    auth, sign = issue(pki)
    older = pki.generations("auth")[0]
    current = pki.generation("auth")
    # A serial this CA never issued.
    ca_key = current.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1)
    never = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            hashlib.sha1(current.certificate.subject.public_bytes()).digest(),  # noqa: S324
            hashlib.sha1(ca_key).digest(),  # noqa: S324
            424242,
            hashes.SHA1(),  # noqa: S303
        )
        .build()
        .public_bytes(Encoding.DER)
    )
    assert ocsp.load_der_ocsp_response(pki.ocsp_response(never)).certificate_status is (
        ocsp.OCSPCertStatus.UNKNOWN
    )
    # The sign certificate asked at the auth endpoint.
    at_auth = pki.ocsp_response(_request(sign, pki.generation("sign").certificate), kind="auth")
    assert ocsp.load_der_ocsp_response(at_auth).certificate_status is (ocsp.OCSPCertStatus.UNKNOWN)
    # A real serial, but named under the other generation's key: not issued by that CA.
    wrong_generation = pki.ocsp_response(_request(auth, older.certificate))
    response = ocsp.load_der_ocsp_response(wrong_generation)
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    # ... and the older generation's own responder answers for it.
    _verify_signed_by(response, older.responder_certificate)


def test_older_generation_certificates_are_answered_by_its_own_responder(
    pki: TestPki,
) -> None:
    older = pki.generations("auth")[0]
    old_auth, _ = issue(pki, generation=older.name)
    pki.revoke(old_auth.serial_number, "return")
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(_request(old_auth, older.certificate)))
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is x509.ReasonFlags.cessation_of_operation
    assert response.certificates == [older.responder_certificate]
    _verify_signed_by(response, older.responder_certificate)


def _foreign_certificate(pki: TestPki, serial: int) -> tuple[x509.Certificate, x509.Certificate]:
    """A CA with the same DN as the auth CA but another key, and a card certificate it
    issued with a serial that the test PKI also issued."""
    now = _now()
    key = card_key(2)
    foreign_ca = build_ca_certificate(
        "auth", key, serial=7, not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=365),
    )  # fmt: skip
    request = CardCertificateRequest(
        kind="auth", subject_id="FOREIGN0000000000000000", serial=serial,
        public_key=card_key(0).public_key(), not_before=now,
        not_after=now + dt.timedelta(days=30), partition=Partition("Tokyo", "Chiyoda-ku"),
        prefecture="東京都", city="千代田区", crl_url=pki.crl_url("auth", "Tokyo/Chiyoda-ku"),
        ocsp_url=pki.ocsp_url("auth"), cps_url=pki.cps_url(),
    )  # fmt: skip
    return foreign_ca, build_card_certificate(request, foreign_ca, key)


def test_foreign_ca_with_the_same_dn_gets_unknown_even_for_a_known_serial(
    pki: TestPki,
) -> None:
    auth, _ = issue(pki)
    foreign_ca, foreign = _foreign_certificate(pki, auth.serial_number)
    assert foreign_ca.subject == pki.generation("auth").certificate.subject
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(_request(foreign, foreign_ca)))
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    _verify_signed_by(response, pki.generation("auth").responder_certificate)


def test_multiple_certificates_in_one_request(pki: TestPki) -> None:
    auth, _ = issue(pki)
    revoked, _ = issue(pki)
    pki.revoke(revoked.serial_number, "renewal")
    ca = pki.generation("auth").certificate
    ids = [
        asn1_ocsp.OCSPRequest.load(_request(cert, ca))["tbs_request"]["request_list"][0]
        for cert in (auth, revoked)
    ]
    request = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": ids}}).dump()
    response = asn1_ocsp.OCSPResponse.load(pki.ocsp_response(request))
    assert response["response_status"].native == "successful"
    singles = response.basic_ocsp_response["tbs_response_data"]["responses"]
    states = {s["cert_id"]["serial_number"].native: s["cert_status"].name for s in singles}
    assert states == {auth.serial_number: "good", revoked.serial_number: "revoked"}


def _status(der: bytes) -> ocsp.OCSPResponseStatus:
    return ocsp.load_der_ocsp_response(der).response_status


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x30", b"not der at all", b"\x30\x03\x02\x01\x01", b"\x30\x80" + b"\x00" * 8],
)
def test_malformed_requests_get_malformed_request(pki: TestPki, bad: bytes) -> None:
    assert _status(pki.ocsp_response(bad)) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_truncated_trailing_and_oversized_requests(pki: TestPki) -> None:
    auth, _ = issue(pki)
    good = _request(auth, pki.generation("auth").certificate)
    for bad in (good[:-1], good + b"\x00", good[:10], b"\x30\x84\xff\xff\xff\xff" + good):
        assert _status(pki.ocsp_response(bad)) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    huge = b"\x30" + b"\x83\x01\x00\x00" + b"\x00" * 65536
    assert _status(pki.ocsp_response(huge)) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert _status(pki.ocsp_response(good)) is ocsp.OCSPResponseStatus.SUCCESSFUL


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash_the_responder(pki: TestPki, data: bytes) -> None:
    status = _status(pki.ocsp_response(data))
    assert status in (ocsp.OCSPResponseStatus.MALFORMED_REQUEST, ocsp.OCSPResponseStatus.SUCCESSFUL)


# -- over HTTP, with openssl ------------------------------------------------------------


def _openssl_ocsp(
    tmp_path: Path,
    server: PkiServer,
    kind: str,
    issuer: x509.Certificate,
    cert: x509.Certificate,
    *trust: str | Path,
) -> str:
    result = openssl(
        "ocsp",
        "-issuer", write_pem(tmp_path / "issuer.pem", issuer),
        "-cert", write_pem(tmp_path / "cert.pem", cert),
        "-url", f"{server.url}/ocsp/{kind}",
        *trust,
        "-resp_text",
        "-timeout", "20",
    )  # fmt: skip
    return result.stdout + result.stderr


def test_openssl_ocsp_good_revoked_unknown_over_http(
    served_pki: tuple[TestPki, PkiServer], tmp_path: Path
) -> None:
    pki, server = served_pki
    auth, sign = issue(pki)
    ca = pki.generation("auth").certificate
    # The URL in the certificate is the server's.
    aia = auth.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert aia[0].access_location.value == f"{server.url}/ocsp/auth"
    responder = write_pem(tmp_path / "responder.pem", pki.ocsp_responder_certificate("auth"))
    ca_file = write_pem(tmp_path / "ca.pem", ca)

    out = _openssl_ocsp(tmp_path, server, "auth", ca, auth, "-VAfile", responder)
    assert "Response verify OK" in out
    assert "cert.pem: good" in out
    assert "OCSP Nonce" in out  # openssl sends one; the responder echoes it

    pki.revoke(auth.serial_number, "loss")
    out = _openssl_ocsp(tmp_path, server, "auth", ca, auth, "-CAfile", ca_file)
    assert "Response verify OK" in out
    assert "cert.pem: revoked" in out
    assert "Reason: keyCompromise" in out

    foreign_ca, foreign = _foreign_certificate(pki, sign.serial_number)
    out = _openssl_ocsp(tmp_path, server, "auth", foreign_ca, foreign, "-VAfile", responder)
    assert "cert.pem: unknown" in out

    sign_ca = pki.generation("sign").certificate
    sign_responder = write_pem(
        tmp_path / "sign-responder.pem", pki.ocsp_responder_certificate("sign")
    )
    out = _openssl_ocsp(tmp_path, server, "sign", sign_ca, sign, "-VAfile", sign_responder)
    assert "Response verify OK" in out and "cert.pem: good" in out


def test_openssl_ocsp_older_generation_verifies_against_all_anchors(
    served_pki: tuple[TestPki, PkiServer], tmp_path: Path
) -> None:
    pki, server = served_pki
    older = pki.generations("auth")[0]
    old_auth, _ = issue(pki, generation=older.name)
    pki.revoke(old_auth.serial_number, "move")
    anchors = write_pem(tmp_path / "anchors.pem", *pki.trust_anchors("auth"))
    out = _openssl_ocsp(tmp_path, server, "auth", older.certificate, old_auth, "-CAfile", anchors)
    assert "Response verify OK" in out
    assert "Reason: affiliationChanged" in out


def test_http_get_ocsp_crl_and_ca_downloads(served_pki: tuple[TestPki, PkiServer]) -> None:
    pki, server = served_pki
    auth, _ = issue(pki)
    pki.revoke(auth.serial_number, "death")
    ca = pki.generation("auth").certificate
    request = _request(auth, ca, nonce=b"get-nonce-123456")
    with httpx.Client(timeout=10) as client:
        # RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}
        encoded = quote(base64.b64encode(request).decode(), safe="")
        reply = client.get(f"{pki.ocsp_url('auth')}/{encoded}")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/ocsp-response"
        response = ocsp.load_der_ocsp_response(reply.content)
        assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert response.revocation_reason is x509.ReasonFlags.cessation_of_operation
        assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == (
            b"get-nonce-123456"
        )
        # Clients that do not percent-encode the base64 (slashes and all) work too.
        raw = next(
            r
            for r in (_request(auth, ca, nonce=bytes([n]) * 16) for n in range(256))
            if "/" in base64.b64encode(r).decode()
        )
        unencoded = client.get(f"{pki.ocsp_url('auth')}/{base64.b64encode(raw).decode()}")
        assert ocsp.load_der_ocsp_response(unencoded.content).certificate_status is (
            ocsp.OCSPCertStatus.REVOKED
        )
        posted = client.post(
            pki.ocsp_url("auth"),
            content=request,
            headers={"Content-Type": "application/ocsp-request"},
        )
        assert ocsp.load_der_ocsp_response(posted.content).certificate_status is (
            ocsp.OCSPCertStatus.REVOKED
        )
        # The CRL at the URL the certificate names.
        dps = auth.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl_reply = client.get(dps[1].full_name[0].value)
        assert crl_reply.status_code == 200
        assert crl_reply.headers["content-type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(crl_reply.content)
        assert auth.serial_number in {r.serial_number for r in crl}
        for generation in pki.generations("auth"):
            cer = client.get(pki.ca_url("auth", generation.name))
            assert cer.status_code == 200
            assert cer.content == generation.der
        responder = client.get(f"{server.url}/ocsp-responder/auth-{generation.name}.cer")
        assert responder.content == pki.ocsp_responder_certificate("auth", generation.name)
        assert "test" in client.get(pki.cps_url()).text.lower()


def test_http_errors_are_answered_not_dropped(served_pki: tuple[TestPki, PkiServer]) -> None:
    pki, server = served_pki
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{server.url}/nothing").status_code == 404
        assert client.get(f"{server.url}/crl/root/Tokyo/Chiyoda-ku.crl").status_code == 404
        assert client.get(f"{server.url}/crl/auth/Tokyo.crl").status_code == 404
        assert client.get(f"{server.url}/crl/auth/Tokyo/Chiyoda-ku").status_code == 404
        assert client.get(f"{server.url}/ca/auth-1999.cer").status_code == 404
        assert client.post(f"{server.url}/crl/auth", content=b"x").status_code == 404
        assert client.post(f"{server.url}/ocsp/root", content=b"x").status_code == 404
        big = client.post(f"{server.url}/ocsp/auth", content=b"\x30" * 70000)
        assert big.status_code == 413
        garbage = client.post(f"{server.url}/ocsp/auth", content=b"garbage")
        assert garbage.status_code == 200
        assert _status(garbage.content) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        bad_get = client.get(f"{server.url}/ocsp/auth/%%%not-base64")
        assert _status(bad_get.content) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        # Still serving after all that.
        assert client.get(pki.ca_url("auth")).status_code == 200


def test_server_stops_and_frees_its_port(pki: TestPki) -> None:
    from simulators.pki import serve

    with serve(pki, port=0) as server:
        url = server.url
        assert httpx.get(f"{url}/cps.html", timeout=5).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/cps.html", timeout=2)
    with serve(pki, port=server.port) as again:  # the port is free again
        assert again.port == server.port
