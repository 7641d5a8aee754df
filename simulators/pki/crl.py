"""Partitioned CRLs in the J-LIS style: one CRL per municipality per CA, whose
issuingDistributionPoint names the same directoryName as the certificates' CRL DP."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from simulators.pki.names import Kind, Partition
from simulators.pki.store import CertificateRecord


def content_key(generation: str, names: list[str], revoked: list[CertificateRecord]) -> str:
    """A digest of everything a CRL states besides its number and times."""
    digest = hashlib.sha256(generation.encode())
    for name in names:
        digest.update(b"\0name\0" + name.encode())
    for record in revoked:
        digest.update(f"\0{record.serial}\0{record.revoked_at}\0{record.reason}".encode())
    return digest.hexdigest()


def issuing_distribution_point(
    kind: Kind, partition: Partition, url: str
) -> x509.IssuingDistributionPoint:
    """Names the partition both ways its certificates do: the directoryName (the real
    JPKI form) and the test HTTP URL. A relying party matching either DP finds it."""
    return x509.IssuingDistributionPoint(
        full_name=[
            x509.DirectoryName(partition.distribution_point_name(kind)),
            x509.UniformResourceIdentifier(url),
        ],
        relative_name=None,
        only_contains_user_certs=True,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )


def build_crl(
    *,
    kind: Kind,
    partition: Partition,
    url: str,
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
    revoked: list[CertificateRecord],
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
) -> bytes:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=ski.digest,
                authority_cert_issuer=[x509.DirectoryName(ca_cert.issuer)],
                authority_cert_serial_number=ca_cert.serial_number,
            ),
            critical=False,
        )
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(issuing_distribution_point(kind, partition, url), critical=True)
    )
    for record in revoked:
        assert record.revoked_at is not None and record.reason is not None
        entry = x509.RevokedCertificateBuilder().serial_number(record.serial)
        entry = entry.revocation_date(record.revoked_at)
        reason = x509.ReasonFlags(record.reason)
        # RFC 5280 5.3.1: the unspecified reason SHOULD be expressed by leaving it out.
        if reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(Encoding.DER)
