"""Builders for the test PKI's certificates, shaped like the real J-LIS ones.

Extension order and criticality follow the real certificates (auth_real.pem, auth_ca_*.pem):
  CA:   keyUsage(c) subjectAltName basicConstraints(c) cRLDistributionPoints SKI
  auth: keyUsage(c) extKeyUsage certificatePolicies(c) issuerAltName cRLDistributionPoints
        authorityInfoAccess AKI(keyid+issuer+serial) SKI
  sign: keyUsage(c) certificatePolicies(c) subjectAltName(otherNames) issuerAltName
        cRLDistributionPoints authorityInfoAccess AKI SKI
Test additions: each card certificate carries a second DistributionPoint with the HTTP URL
of its partition's CRL, so a fetcher can find it without an LDAP directory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto.core import UTF8String
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from jpki.constants import (
    OID_AUTH_POLICY,
    OID_SAN_ADDRESS,
    OID_SAN_ADDRESS_SUBSTITUTE,
    OID_SAN_BIRTH_DATE,
    OID_SAN_NAME,
    OID_SAN_NAME_SUBSTITUTE,
    OID_SAN_SEX,
    OID_SIGN_POLICY,
)
from simulators.pki.names import Kind, Partition, ca_name, japanese_authority_name
from simulators.pki.names import responder_name as _responder_name

POLICY_OID: dict[Kind, str] = {"auth": OID_AUTH_POLICY, "sign": OID_SIGN_POLICY}
RSA_BITS = 2048

# Characters outside JIS X 0208 that the register writes with a common substitute
# (代替文字). A small, honest subset for test data: real registers use a full table.
SUBSTITUTE_CHARACTERS = {
    "髙": "高",
    "﨑": "崎",
    "𠮷": "吉",
    "德": "徳",
    "濵": "浜",
    "邉": "辺",
    "邊": "辺",
}


def substitute_characters(text: str) -> str:
    return "".join(SUBSTITUTE_CHARACTERS.get(ch, ch) for ch in text)


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _utf8_other_name(oid: str, value: str) -> x509.OtherName:
    # OtherName.value is the DER of the [0] EXPLICIT content: here a UTF8String.
    return x509.OtherName(x509.ObjectIdentifier(oid), UTF8String(value).dump())


def _ski(public_key: rsa.RSAPublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _aki(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """keyid + issuer name + serial, like the real certificates: the keyid and serial tell
    apart CA generations that share one DN."""
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier(
        key_identifier=ski.digest,
        authority_cert_issuer=[x509.DirectoryName(ca_cert.issuer)],
        authority_cert_serial_number=ca_cert.serial_number,
    )


def build_ca_certificate(
    kind: Kind,
    key: rsa.RSAPrivateKey,
    *,
    serial: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    name = ca_name(kind)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.DirectoryName(japanese_authority_name(kind))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.DirectoryName(name)], None, None, None)]
            ),
            critical=False,
        )
        .add_extension(_ski(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def build_responder_certificate(
    kind: Kind,
    generation: str,
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    responder_key: rsa.RSAPublicKey,
    *,
    serial: int,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A delegated OCSP responder (RFC 6960 4.2.2.2) for one CA generation."""
    return (
        x509.CertificateBuilder()
        .subject_name(_responder_name(kind, generation))
        .issuer_name(ca_cert.subject)
        .public_key(responder_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
        .add_extension(_ski(responder_key), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class CardCertificateRequest:
    """Everything a card certificate states, decided by the PKI before building it."""

    kind: Kind
    subject_id: str
    serial: int
    public_key: rsa.RSAPublicKey
    not_before: dt.datetime
    not_after: dt.datetime
    partition: Partition
    prefecture: str
    city: str
    crl_url: str
    ocsp_url: str
    cps_url: str
    # Basic 4 facts, only for the signature certificate.
    name: str = ""
    sex: str = ""
    birth_date: str = ""
    address: str = ""


def _card_key_usage(kind: Kind) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=kind == "sign",
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def build_card_certificate(
    request: CardCertificateRequest, ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey
) -> x509.Certificate:
    kind = request.kind
    if kind == "auth":
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, request.subject_id),
            ]
        )
    else:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.LOCALITY_NAME, request.prefecture),
                x509.NameAttribute(NameOID.LOCALITY_NAME, request.city),
                x509.NameAttribute(NameOID.COMMON_NAME, request.subject_id),
            ]
        )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(request.public_key)
        .serial_number(request.serial)
        .not_valid_before(request.not_before)
        .not_valid_after(request.not_after)
        .add_extension(_card_key_usage(kind), critical=True)
    )
    if kind == "auth":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    builder = builder.add_extension(
        x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier(POLICY_OID[kind]), [request.cps_url])]
        ),
        critical=True,
    )
    if kind == "sign":
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    _utf8_other_name(OID_SAN_NAME, request.name),
                    _utf8_other_name(OID_SAN_NAME_SUBSTITUTE, substitute_characters(request.name)),
                    _utf8_other_name(OID_SAN_SEX, request.sex),
                    _utf8_other_name(OID_SAN_BIRTH_DATE, request.birth_date),
                    _utf8_other_name(OID_SAN_ADDRESS, request.address),
                    _utf8_other_name(
                        OID_SAN_ADDRESS_SUBSTITUTE, substitute_characters(request.address)
                    ),
                ]
            ),
            critical=False,
        )
    return (
        builder.add_extension(
            x509.IssuerAlternativeName([x509.DirectoryName(japanese_authority_name(kind))]),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.DirectoryName(request.partition.distribution_point_name(kind))],
                        None,
                        None,
                        None,
                    ),
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(request.crl_url)], None, None, None
                    ),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(request.ocsp_url),
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(_aki(ca_cert), critical=False)
        .add_extension(_ski(request.public_key), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
