"""A miniature JPKI for validation tests, built with cryptography's builders: two CA
generations with the same DN, card certificates with a directoryName CRL DP, partitioned
CRLs, and OCSP responses signed by the CA, a delegated responder or a rogue key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jpki.constants import OID_AUTH_POLICY, OID_SIGN_POLICY

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OCSP_URL = "http://ocsp.test.invalid/"
CRL_BASE = "http://crl.test.invalid/"


def new_key() -> rsa.RSAPrivateKey:
    # 1024-bit keys keep the fixtures fast; the code paths are the same as for 2048.
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


def ca_name(kind: str) -> x509.Name:
    ou = "JPKI for user authentication" if kind == "auth" else "JPKI for digital signature"
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                "Japan Agency for Local Authority Information Systems",
            ),
        ]
    )


def partition_name(kind: str, city: str, prefecture: str = "Ibaraki-ken") -> x509.Name:
    ou = "JPKI for user authentication" if kind == "auth" else "JPKI for digital signature"
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, prefecture),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{city} CRLDP"),
        ]
    )


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


@dataclass
class Generation:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return der(self.cert)


@dataclass
class MiniPki:
    kind: str
    generations: list[Generation]
    rogue: Generation  # same DN, not a trust anchor
    _serial: int = 0x1000
    issued: dict[int, x509.Certificate] = field(default_factory=dict)

    @property
    def anchors(self) -> list[bytes]:
        return [g.der for g in self.generations]

    def next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def issue(
        self,
        *,
        generation: int = 0,
        serial: int | None = None,
        partition: x509.Name | None = None,
        kind: str | None = None,
        not_before: datetime = NOW - timedelta(days=30),
        not_after: datetime = NOW + timedelta(days=365),
        crl_url: str | None = "auto",
        ocsp_url: str | None = OCSP_URL,
        ku: dict[str, bool] | None = None,
        eku: Sequence[x509.ObjectIdentifier] | None = None,
        policy: str | None = None,
        with_aki: bool = True,
        signer: Generation | None = None,
        ca: bool = False,
        extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
    ) -> x509.Certificate:
        kind = kind or self.kind
        gen = self.generations[generation]
        signer = signer or gen
        serial = serial if serial is not None else self.next_serial()
        partition = partition if partition is not None else partition_name(self.kind, "Tsukuba-shi")
        key = new_key_cached()
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, f"TEST{serial:019d}"),
                    ]
                )
            )
            .issuer_name(gen.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        usage = ku or (
            {"digital_signature": True}
            if kind == "auth"
            else {"digital_signature": True, "content_commitment": True}
        )
        flags = dict.fromkeys(
            (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        flags.update(usage)
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
        if eku is None:
            eku = [ExtendedKeyUsageOID.CLIENT_AUTH] if kind == "auth" else []
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        policy = policy or (OID_AUTH_POLICY if kind == "auth" else OID_SIGN_POLICY)
        builder = builder.add_extension(
            x509.CertificatePolicies(
                [
                    x509.PolicyInformation(
                        x509.ObjectIdentifier(policy), ["http://www.jpki.go.jp/cps.html"]
                    )
                ]
            ),
            critical=True,
        )
        names: list[x509.GeneralName] = [x509.DirectoryName(partition)]
        if crl_url == "auto":
            crl_url = CRL_BASE + partition.get_attributes_for_oid(NameOID.COMMON_NAME)[
                0
            ].value.replace(" ", "_")  # type: ignore[union-attr]
        dps = [x509.DistributionPoint(names, None, None, None)]
        if crl_url:
            dps.append(
                x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            )
        builder = builder.add_extension(x509.CRLDistributionPoints(dps), critical=False)
        if ocsp_url:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            x509.oid.AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(ocsp_url),
                        )
                    ]
                ),
                critical=False,
            )
        if with_aki:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
                critical=False,
            )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        if ca:
            builder = builder.add_extension(
                x509.BasicConstraints(ca=True, path_length=0), critical=True
            )
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        cert = builder.sign(signer.key, hashes.SHA256())
        self.issued[serial] = cert
        return cert

    def crl(
        self,
        *,
        generation: int = 0,
        partition: x509.Name | str | None = "default",
        revoked: Iterable[tuple[int, datetime, x509.ReasonFlags | None]] = (),
        number: int | None = 1,
        this_update: datetime = NOW - timedelta(hours=1),
        next_update: datetime | None = NOW + timedelta(days=1),
        signer: Generation | None = None,
        with_aki: bool = True,
        idp_kwargs: dict[str, Any] | None = None,
        extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
    ) -> bytes:
        gen = self.generations[generation]
        signer = signer or gen
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(gen.cert.subject)
            .last_update(this_update)
        )
        if next_update is not None:
            builder = builder.next_update(next_update)
        if number is not None:
            builder = builder.add_extension(x509.CRLNumber(number), critical=False)
        if partition == "default":
            partition = partition_name(self.kind, "Tsukuba-shi")
        if partition is not None:
            assert isinstance(partition, x509.Name)
            kw: dict[str, Any] = dict(
                full_name=[x509.DirectoryName(partition)],
                relative_name=None,
                only_contains_user_certs=False,
                only_contains_ca_certs=False,
                only_some_reasons=None,
                indirect_crl=False,
                only_contains_attribute_certs=False,
            )
            kw.update(idp_kwargs or {})
            builder = builder.add_extension(x509.IssuingDistributionPoint(**kw), critical=True)
        if with_aki:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
                critical=False,
            )
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        for serial, when, reason in revoked:
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            if reason is not None:
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(Encoding.DER)

    def responder(
        self, *, generation: int = 0, eku: bool = True, signer: Generation | None = None
    ) -> Generation:
        """A delegated OCSP responder certificate issued by a CA generation."""
        gen = self.generations[generation]
        key = new_key_cached()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCSP resp")]))
            .issuer_name(gen.cert.subject)
            .public_key(key.public_key())
            .serial_number(self.next_serial())
            .not_valid_before(NOW - timedelta(days=10))
            .not_valid_after(NOW + timedelta(days=100))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    (signer or gen).key.public_key()
                ),
                critical=False,
            )
        )
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
        cert = builder.sign((signer or gen).key, hashes.SHA256())
        return Generation(key, cert)

    def ocsp_response(
        self,
        cert: x509.Certificate,
        *,
        generation: int = 0,
        status: str = "good",
        nonce: bytes | None = None,
        responder: Generation | None = None,
        embed: bool = True,
        this_update: datetime = NOW - timedelta(minutes=5),
        next_update: datetime | None = NOW + timedelta(minutes=15),
        revoked_at: datetime = NOW - timedelta(days=1),
        reason: x509.ReasonFlags | None = x509.ReasonFlags.key_compromise,
        issuer_for_certid: x509.Certificate | None = None,
        serial: int | None = None,
    ) -> bytes:
        gen = self.generations[generation]
        signer = responder or gen
        cert_status = {
            "good": ocsp.OCSPCertStatus.GOOD,
            "revoked": ocsp.OCSPCertStatus.REVOKED,
            "unknown": ocsp.OCSPCertStatus.UNKNOWN,
        }[status]
        subject_cert = cert
        if serial is not None:
            subject_cert = (
                self.issue(serial=serial) if serial not in self.issued else self.issued[serial]
            )
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=subject_cert,
                issuer=issuer_for_certid or gen.cert,
                algorithm=hashes.SHA1(),  # noqa: S303 - CertID hash, as JPKI uses
                cert_status=cert_status,
                this_update=this_update,
                next_update=next_update,
                revocation_time=revoked_at if status == "revoked" else None,
                revocation_reason=reason if status == "revoked" else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        )
        if responder is not None and embed:
            builder = builder.certificates([responder.cert])
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(Encoding.DER)


_KEY_POOL: list[rsa.RSAPrivateKey] = []
_KEY_INDEX = [0]


def new_key_cached() -> rsa.RSAPrivateKey:
    """End-entity keys are not what is under test; reuse a small pool to stay fast."""
    if len(_KEY_POOL) < 4:
        _KEY_POOL.append(new_key())
        return _KEY_POOL[-1]
    _KEY_INDEX[0] = (_KEY_INDEX[0] + 1) % len(_KEY_POOL)
    return _KEY_POOL[_KEY_INDEX[0]]


def make_ca(
    kind: str, key: rsa.RSAPrivateKey, not_before: datetime, not_after: datetime, serial: int
) -> Generation:
    name = ca_name(kind)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Generation(key, cert)


def build_pki(kind: str) -> MiniPki:
    old = make_ca(kind, new_key(), NOW - timedelta(days=3000), NOW + timedelta(days=600), 1)
    new = make_ca(kind, new_key(), NOW - timedelta(days=900), NOW + timedelta(days=3000), 2)
    rogue = make_ca(kind, new_key(), NOW - timedelta(days=900), NOW + timedelta(days=3000), 3)
    return MiniPki(kind, [old, new], rogue)


@pytest.fixture(scope="session")
def auth_pki() -> MiniPki:
    return build_pki("auth")


@pytest.fixture(scope="session")
def sign_pki() -> MiniPki:
    return build_pki("sign")


def tbs_elements(crl_der: bytes) -> list[bytes]:
    """The TLVs inside a CRL's TBSCertList, for tests that re-sign edited CRLs."""
    from jpki.validation import der as derlib

    _, start, end = derlib.read_header(crl_der, 0, len(crl_der))
    _, tstart, tend = derlib.read_header(crl_der, start, end)
    out = []
    pos = tstart
    while pos < tend:
        _, _, stop = derlib.read_header(crl_der, pos, tend)
        out.append(crl_der[pos:stop])
        pos = stop
    return out


def resign_crl(elements: list[bytes], signer: Generation) -> bytes:
    """A CRL whose TBSCertList is the given TLVs, signed (sha256WithRSA) by `signer`."""
    from cryptography.hazmat.primitives.asymmetric import padding

    from jpki.validation.der import encode_tlv

    sha256_rsa = bytes.fromhex("300d06092a864886f70d01010b0500")
    tbs = encode_tlv(0x30, b"".join(elements))
    signature = signer.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return encode_tlv(0x30, tbs + sha256_rsa + encode_tlv(0x03, b"\x00" + signature))
