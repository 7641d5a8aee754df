"""Generator of large signed CRLs for the CRL benchmark (and big-CRL tests).

CertificateRevocationListBuilder takes minutes for a million entries, so the header
(issuer, dates, CRLNumber, IDP, AKI) comes from the builder with no entries, the
revokedCertificates DER is written here, and the new TBS is signed directly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from jpki.validation import der


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def entry(serial: int, when: datetime, reason: int | None) -> bytes:
    raw = serial.to_bytes(serial.bit_length() // 8 + 1, "big")  # room for the sign bit
    if len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    body = tlv(0x02, raw) + tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
    if reason is not None:
        body += b"\x30\x0c\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01" + bytes((reason,))
    return tlv(0x30, body)


def make_serials(n: int, rng: random.Random) -> list[int]:
    """Mostly JPKI-like 3-4 byte serials, a few 8-byte and 16-byte ones."""
    small = rng.sample(range(1 << 16, 1 << 32), n - n // 50)
    wide = [rng.getrandbits(63) | (1 << 40) for _ in range(n // 100)]
    wider = [rng.getrandbits(127) | (1 << 100) for _ in range(n // 50 - n // 100)]
    return small + wide + wider


def generate_crl(
    issuer_cert: x509.Certificate,
    key: rsa.RSAPrivateKey,
    partition: x509.Name,
    serials: list[int],
    *,
    number: int = 1,
    this_update: datetime | None = None,
    seed: int = 1,
) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - test data
    this_update = this_update or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    template = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update)
        .next_update(this_update + timedelta(days=2))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.IssuingDistributionPoint(
                full_name=[x509.DirectoryName(partition)],
                relative_name=None,
                only_contains_user_certs=False,
                only_contains_ca_certs=False,
                only_some_reasons=None,
                indirect_crl=False,
                only_contains_attribute_certs=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    raw_start = der.read_header(template, 0, len(template))[1]
    _, tbs_start, tbs_end = der.read_header(template, raw_start, len(template))
    sig_alg = template[tbs_end : der.expect(template, tbs_end, len(template), 0x30)[1]]
    content = template[tbs_start:tbs_end]
    # The [0] crlExtensions element is the last one; entries go right before it.
    ext_pos = content.rindex(b"\xa0")
    while True:  # find the [0] whose TLV ends exactly at the end of the TBS
        try:
            _, _, stop = der.read_header(content, ext_pos, len(content))
            if stop == len(content):
                break
        except der.DerError:
            pass
        ext_pos = content.rindex(b"\xa0", 0, ext_pos)
    base = int(this_update.timestamp()) - 5 * 365 * 86400
    chunks = []
    for serial in serials:
        when = datetime.fromtimestamp(base + rng.randrange(5 * 365 * 86400), UTC)
        reason = rng.choice((None, None, 1, 1, 3, 4, 5, 6))
        chunks.append(entry(serial, when, reason))
    revoked = tlv(0x30, b"".join(chunks)) if chunks else b""
    tbs = tlv(0x30, content[:ext_pos] + revoked + content[ext_pos:])
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return tlv(0x30, tbs + sig_alg + tlv(0x03, b"\x00" + signature))


def make_ca(common_name: str = "Bench CA") -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed RSA-2048 CA able to sign CRLs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "JPKI"),
            x509.NameAttribute(x509.NameOID.ORGANIZATIONAL_UNIT_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key
