"""Names in the shape of the real J-LIS ones, with test values where the real ones would
identify the authority (so a test certificate can never pass for a real one by its DN).

Encoding mirrors /work/shared/data/jpki-real: countryName is a PrintableString and every
other attribute a UTF8String (cryptography's defaults), one attribute per RDN, ordered
C, O, OU..., CN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from cryptography import x509
from cryptography.x509.oid import NameOID

from simulators.pki.errors import InvalidPartitionError, UnknownKindError

Kind = Literal["auth", "sign"]
KINDS: tuple[Kind, ...] = ("auth", "sign")

# The real CAs' OU naming the purpose; kept so DN-driven code sees the real structure.
PURPOSE_OU: dict[Kind, str] = {
    "auth": "JPKI for user authentication",
    "sign": "JPKI for digital signature",
}
# Where the real DN names J-LIS, the test PKI names itself.
TEST_AUTHORITY_OU = "mynaterm Test Agency for Local Authority Information Systems"
CRL_DP_OU = "CRL Distribution Points"

# IssuerAltName / CA subjectAltName: Japanese directory name, UTF8String like the real one.
JAPANESE_SERVICE_O = "公的個人認証サービス"
JAPANESE_PURPOSE_OU: dict[Kind, str] = {
    "auth": "公的個人認証サービス利用者証明用",
    "sign": "公的個人認証サービス署名用",
}
JAPANESE_TEST_AUTHORITY_OU = "試験用認証局（mynaterm）"


def as_kind(value: object) -> Kind:
    """Accept "auth"/"sign" or an enum whose value is one (jpki.constants.KeyKind)."""
    text = getattr(value, "value", value)
    if text == "auth":
        return "auth"
    if text == "sign":
        return "sign"
    raise UnknownKindError(f"unknown CA kind {value!r}: use 'auth' or 'sign'")


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(oid, value)


def ca_name(kind: Kind) -> x509.Name:
    """Subject and issuer of every generation of one CA (same DN, different keys)."""
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "JP"),
            _attr(NameOID.ORGANIZATION_NAME, "JPKI"),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, PURPOSE_OU[kind]),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, TEST_AUTHORITY_OU),
        ]
    )


def japanese_authority_name(kind: Kind) -> x509.Name:
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "JP"),
            _attr(NameOID.ORGANIZATION_NAME, JAPANESE_SERVICE_O),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, JAPANESE_PURPOSE_OU[kind]),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, JAPANESE_TEST_AUTHORITY_OU),
        ]
    )


def responder_name(kind: Kind, generation: str) -> x509.Name:
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "JP"),
            _attr(NameOID.ORGANIZATION_NAME, "JPKI"),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, PURPOSE_OU[kind]),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, TEST_AUTHORITY_OU),
            _attr(NameOID.COMMON_NAME, f"OCSP Responder {generation}"),
        ]
    )


_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .'_-]{0,62}$")


@dataclass(frozen=True, order=True)
class Partition:
    """One municipality's CRL partition, named by the English names on the DP.

    Its id is "<prefecture_en>/<city_en>", e.g. "Tokyo/Chiyoda-ku"."""

    prefecture_en: str
    city_en: str

    def __post_init__(self) -> None:
        for part in (self.prefecture_en, self.city_en):
            if not _PART_RE.match(part):
                raise InvalidPartitionError(
                    f"partition name part {part!r} must be 1-63 ASCII letters, digits, "
                    "space, . ' _ - (starting with a letter or digit)"
                )

    @property
    def id(self) -> str:
        return f"{self.prefecture_en}/{self.city_en}"

    @classmethod
    def parse(cls, partition_id: str) -> Partition:
        if not isinstance(partition_id, str) or partition_id.count("/") != 1:
            raise InvalidPartitionError(
                f"partition {partition_id!r} is not '<prefecture_en>/<city_en>'"
            )
        prefecture, city = partition_id.split("/")
        return cls(prefecture, city)

    def url_path(self) -> str:
        """The partition as two percent-encoded URL path segments."""
        return f"{quote(self.prefecture_en, safe='')}/{quote(self.city_en, safe='')}"

    @classmethod
    def from_url_path(cls, path: str) -> Partition:
        return cls.parse("/".join(unquote(p) for p in path.split("/")))

    def distribution_point_name(self, kind: Kind) -> x509.Name:
        """`CN=<city> CRLDP, OU=<prefecture>, OU=CRL Distribution Points, OU=<purpose>,
        O=JPKI, C=JP` (RFC 4514 order; encoded C first like the real certificate)."""
        return x509.Name(
            [
                _attr(NameOID.COUNTRY_NAME, "JP"),
                _attr(NameOID.ORGANIZATION_NAME, "JPKI"),
                _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, PURPOSE_OU[kind]),
                _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, CRL_DP_OU),
                _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, self.prefecture_en),
                _attr(NameOID.COMMON_NAME, f"{self.city_en} CRLDP"),
            ]
        )
