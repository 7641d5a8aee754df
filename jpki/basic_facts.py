"""The basic 4 facts (基本4情報) as the signature certificate carries them: otherName
entries of subjectAltName under 1.2.392.200149.8.5.5, each value a UTF8String."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, x509

from jpki.constants import (
    OID_SAN_ADDRESS,
    OID_SAN_ADDRESS_SUBSTITUTE,
    OID_SAN_BIRTH_DATE,
    OID_SAN_NAME,
    OID_SAN_NAME_SUBSTITUTE,
    OID_SAN_SEX,
)
from jpki.errors import ASN1_PARSE_ERRORS

_FIELDS = {
    OID_SAN_NAME: "name",
    OID_SAN_NAME_SUBSTITUTE: "name_substitute",
    OID_SAN_SEX: "sex",
    OID_SAN_BIRTH_DATE: "birth_date",
    OID_SAN_ADDRESS: "address",
    OID_SAN_ADDRESS_SUBSTITUTE: "address_substitute",
}
_REQUIRED = ("name", "sex", "birth_date", "address")
MAX_VALUE_CHARS = 1024


class CertInfoError(ValueError):
    """The certificate does not carry the basic 4 facts in the JPKI form."""


@dataclass(frozen=True)
class BasicFourFromCert:
    """Values exactly as certified. `sex` is the code ("1" male, "2" female, "3" not
    applicable on certificates per the JPKI profile as implemented by the test PKI) and
    `birth_date` the certified text (YYYYMMDD); the substitute fields hold the
    characters used where the name or address has ones outside the certificate's
    character set, when present."""

    name: str
    sex: str
    birth_date: str
    address: str
    name_substitute: str | None = None
    address_substitute: str | None = None


def basic_four_from_certificate(cert_der: bytes) -> BasicFourFromCert:
    """Raises CertInfoError, and nothing else, for any certificate that does not carry
    the facts readably."""
    try:
        return _basic_four(cert_der)
    except CertInfoError:
        raise
    except ASN1_PARSE_ERRORS as exc:  # asn1crypto parses lazily, deep in the loop too
        raise CertInfoError(f"certificate does not parse: {type(exc).__name__}") from exc


def _basic_four(cert_der: bytes) -> BasicFourFromCert:
    cert = x509.Certificate.load(cert_der, strict=True)
    san = cert.subject_alt_name_value
    names = list(san) if san is not None else []
    found: dict[str, str] = {}
    for general_name in names:
        if general_name.name != "other_name":
            continue
        other = general_name.chosen
        field = _FIELDS.get(other["type_id"].dotted)
        if field is None:
            continue
        if field in found:
            raise CertInfoError(f"subjectAltName repeats {field}")
        found[field] = _utf8(other["value"], field)
    missing = [f for f in _REQUIRED if f not in found]
    if missing:
        raise CertInfoError(f"subjectAltName lacks {', '.join(missing)}")
    return BasicFourFromCert(
        name=found["name"],
        sex=found["sex"],
        birth_date=found["birth_date"],
        address=found["address"],
        name_substitute=found.get("name_substitute"),
        address_substitute=found.get("address_substitute"),
    )


def basic_four_if_present(cert_der: bytes) -> BasicFourFromCert | None:
    """The basic 4 facts of a signature certificate, or None when the certificate does
    not carry them readably (verifiers show them when they can, and never fail on it)."""
    try:
        return basic_four_from_certificate(cert_der)
    except CertInfoError:
        return None


def _utf8(value: core.Asn1Value, field: str) -> str:
    # AnotherName.value is [0] EXPLICIT ANY; take the inner value's raw encoding.
    try:
        if not isinstance(value, core.Any):
            raise TypeError(f"unexpected {type(value).__name__}")
        text = value.parse(core.UTF8String).native
    except ASN1_PARSE_ERRORS as exc:
        raise CertInfoError(f"{field} is not a UTF8String") from exc
    if not isinstance(text, str) or len(text) > MAX_VALUE_CHARS:
        raise CertInfoError(f"{field} is not a usable UTF8String")
    return text
