"""An RFC 6960 OCSP responder core: bytes in, bytes out, never an exception.

Requests are parsed with asn1crypto (it reads multi-request requests, which cryptography's
ocsp module refuses); responses are assembled with asn1crypto and signed with the
delegated responder key of the CA generation the request names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from asn1crypto import core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAX_REQUEST_BYTES = 64 * 1024
MAX_SINGLE_REQUESTS = 32
_HASHES = {"sha1", "sha224", "sha256", "sha384", "sha512"}


@dataclass(frozen=True)
class ResponderGeneration:
    """One CA generation as the responder sees it: who it is, and who answers for it."""

    kind: str
    name: str
    ca_certificate: x509.Certificate
    responder_certificate: x509.Certificate
    responder_key: rsa.RSAPrivateKey

    def matches(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> bool:
        subject = self.ca_certificate.subject.public_bytes()
        key = self.ca_certificate.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1)
        return (
            hashlib.new(algorithm, subject).digest() == name_hash
            and hashlib.new(algorithm, key).digest() == key_hash
        )


@dataclass(frozen=True)
class SingleStatus:
    state: Literal["good", "revoked", "unknown"]
    revoked_at: dt.datetime | None = None
    reason: x509.ReasonFlags | None = None


StatusLookup = Callable[[ResponderGeneration, int, dt.datetime], SingleStatus]


def unsuccessful(status: str) -> bytes:
    """A response without a body: malformed_request, internal_error, unauthorized, ..."""
    der: bytes = asn1_ocsp.OCSPResponse({"response_status": status}).dump()
    return der


def _parse(request_der: bytes) -> asn1_ocsp.OCSPRequest:
    if not isinstance(request_der, bytes | bytearray) or not request_der:
        raise ValueError("empty request")
    if len(request_der) > MAX_REQUEST_BYTES:
        raise ValueError("request too large")
    request = asn1_ocsp.OCSPRequest.load(bytes(request_der), strict=True)
    # asn1crypto parses lazily: touch every field now so errors surface here.
    request.native  # noqa: B018
    return request


def respond(
    request_der: bytes,
    *,
    generations: Sequence[ResponderGeneration],
    fallback: ResponderGeneration,
    lookup: StatusLookup,
    now: dt.datetime,
    validity: dt.timedelta,
) -> bytes:
    """The DER OCSPResponse for `request_der` at instant `now`."""
    try:
        request = _parse(request_der)
        tbs = request["tbs_request"]
        singles = list(tbs["request_list"])
        if not singles or len(singles) > MAX_SINGLE_REQUESTS:
            raise ValueError("a request names 1 to 32 certificates")
        cert_ids = [single["req_cert"] for single in singles]
        for cert_id in cert_ids:
            if cert_id["hash_algorithm"]["algorithm"].native not in _HASHES:
                raise ValueError("unsupported CertID hash algorithm")
        nonce = None
        for extension in tbs["request_extensions"] or []:
            if extension["extn_id"].native == "nonce":
                nonce = extension["extn_value"].parsed
    except Exception:  # any decoding problem is the client's: say so, never crash
        return unsuccessful("malformed_request")
    try:
        return _sign_response(
            cert_ids,
            nonce,
            generations=generations,
            fallback=fallback,
            lookup=lookup,
            now=now,
            validity=validity,
        )
    except Exception:  # a bug here must still answer in protocol, not drop the socket
        return unsuccessful("internal_error")


def _sign_response(
    cert_ids: list[asn1_ocsp.CertId],
    nonce: core.OctetString | None,
    *,
    generations: Sequence[ResponderGeneration],
    fallback: ResponderGeneration,
    lookup: StatusLookup,
    now: dt.datetime,
    validity: dt.timedelta,
) -> bytes:
    signer: ResponderGeneration | None = None
    responses = []
    for cert_id in cert_ids:
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        name_hash = cert_id["issuer_name_hash"].native
        key_hash = cert_id["issuer_key_hash"].native
        serial = cert_id["serial_number"].native
        issuer = next((g for g in generations if g.matches(algorithm, name_hash, key_hash)), None)
        # A CA this responder does not serve (e.g. a foreign CA with the same DN) gets
        # "unknown" (RFC 6960 2.2), signed by the current responder.
        status = SingleStatus("unknown") if issuer is None else lookup(issuer, serial, now)
        if issuer is not None and signer is None:
            signer = issuer
        responses.append(
            asn1_ocsp.SingleResponse(
                {
                    "cert_id": cert_id,
                    "cert_status": _cert_status(status),
                    "this_update": now,
                    "next_update": now + validity,
                }
            )
        )
    signer = signer or fallback
    responder_cert = asn1_x509.Certificate.load(
        signer.responder_certificate.public_bytes(Encoding.DER)
    )
    extensions = []
    if nonce is not None:
        extensions.append({"extn_id": "nonce", "critical": False, "extn_value": nonce})
    response_data = asn1_ocsp.ResponseData(
        {
            "version": "v1",
            "responder_id": asn1_ocsp.ResponderId(
                name="by_key", value=responder_cert.public_key.sha1
            ),
            "produced_at": now,
            "responses": responses,
            "response_extensions": extensions or None,
        }
    )
    signature = signer.responder_key.sign(response_data.dump(), padding.PKCS1v15(), hashes.SHA256())
    basic = asn1_ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": response_data,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": signature,
            "certs": [responder_cert],
        }
    )
    der: bytes = asn1_ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    ).dump()
    return der


_ASN1_REASONS = {
    x509.ReasonFlags.unspecified: "unspecified",
    x509.ReasonFlags.key_compromise: "key_compromise",
    x509.ReasonFlags.ca_compromise: "ca_compromise",
    x509.ReasonFlags.affiliation_changed: "affiliation_changed",
    x509.ReasonFlags.superseded: "superseded",
    x509.ReasonFlags.cessation_of_operation: "cessation_of_operation",
    x509.ReasonFlags.certificate_hold: "certificate_hold",
    x509.ReasonFlags.remove_from_crl: "remove_from_crl",
    x509.ReasonFlags.privilege_withdrawn: "privilege_withdrawn",
    x509.ReasonFlags.aa_compromise: "aa_compromise",
}


def _cert_status(status: SingleStatus) -> asn1_ocsp.CertStatus:
    if status.state == "good":
        return asn1_ocsp.CertStatus(name="good", value=core.Null())
    if status.state == "unknown":
        return asn1_ocsp.CertStatus(name="unknown", value=core.Null())
    info: dict[str, object] = {"revocation_time": status.revoked_at}
    if status.reason is not None:
        info["revocation_reason"] = _ASN1_REASONS[status.reason]
    return asn1_ocsp.CertStatus(name="revoked", value=asn1_ocsp.RevokedInfo(info))
