"""Values the registry takes and returns. Inputs validate themselves on construction."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum

from asn1crypto import x509

from jpki.constants import RevocationReason as RevocationReason  # the domain vocabulary
from jpki.mynumber import MyNumber
from terminal.linkage.errors import InvalidCertInfo, InvalidRequest

MAX_SERIAL = 2**160  # RFC 5280: serials are at most 20 octets
PORTAL_AGENCY = "portal"
_HEX = re.compile(r"^[0-9a-f]{2,128}$")
_AGENCY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SYMBOL = re.compile(r"^[A-Za-z0-9_=-]{8,64}$")
_INTEGRATED = re.compile(r"^\d{15}$")


class LinkedCertKind(StrEnum):
    """The kind of a linked end-entity certificate (jpki.constants.CertKind also names
    the CA certificates a card holds)."""

    AUTH = "auth"
    SIGN = "sign"


class CertStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # replaced by renewal; as dead as revoked for login


def normalize_key_id(value: str | bytes) -> str:
    """Issuer key id (authorityKeyIdentifier) as lower-case hex."""
    text = value.hex() if isinstance(value, bytes) else value.strip().lower().replace(":", "")
    if not _HEX.match(text) or len(text) % 2:
        raise InvalidCertInfo(f"issuer key id must be hex bytes, got {value!r}")
    return text


def parse_serial(value: int | str) -> int:
    """A certificate serial as int, from int or decimal text (or 0x-hex)."""
    try:
        if isinstance(value, int):
            serial = value
        else:
            text = value.strip().lower()
            serial = int(text[2:], 16) if text.startswith("0x") else int(text, 10)
    except (ValueError, AttributeError) as exc:
        raise InvalidCertInfo(f"serial must be a number, got {value!r}") from exc
    if isinstance(serial, bool) or not 0 < serial < MAX_SERIAL:
        raise InvalidCertInfo("serial must be positive and at most 20 bytes")
    return serial


def validate_agency(code: str) -> str:
    if not isinstance(code, str) or not _AGENCY.match(code):
        raise InvalidRequest(f"agency code must match {_AGENCY.pattern}, got {code!r}")
    return code


def validate_integrated_number(value: str) -> str:
    if not isinstance(value, str) or not _INTEGRATED.match(value):
        raise InvalidRequest("an integrated number (団体内統合宛名番号) is 15 digits")
    return value


@dataclass(frozen=True)
class CertInfo:
    """What the registry keeps of a validated certificate: no subject, no content."""

    serial: int
    issuer_key_id: str
    not_before: dt.datetime
    not_after: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "serial", parse_serial(self.serial))
        object.__setattr__(self, "issuer_key_id", normalize_key_id(self.issuer_key_id))
        for label in ("not_before", "not_after"):
            moment = getattr(self, label)
            if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
                raise InvalidCertInfo(f"{label} must be an aware datetime")
        if self.not_before >= self.not_after:
            raise InvalidCertInfo("not_before must be earlier than not_after")

    @classmethod
    def from_der(cls, der: bytes) -> CertInfo:
        """Serial, issuer key id (authorityKeyIdentifier) and validity of a DER
        certificate. Validation (chain, revocation) is the caller's job, done before."""
        try:
            cert = x509.Certificate.load(der)
            aki = cert.authority_key_identifier
            validity = cert["tbs_certificate"]["validity"]
            not_before = validity["not_before"].native
            not_after = validity["not_after"].native
            serial = cert.serial_number
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidCertInfo(f"not a readable certificate: {exc}") from exc
        if aki is None:
            raise InvalidCertInfo("certificate has no authorityKeyIdentifier")
        return cls(serial, aki.hex(), not_before, not_after)


@dataclass(frozen=True)
class PersonRef:
    """Who the card is for, as the counter knows it.

    integrated_number: a person already in the registry. Without it the person is found
    by the portal symbol the core returned (same resident -> same symbol), or created.
    my_number: optional; stored only as a keyed hash so the counter can find the person
    by number later. Never stored or logged as such.
    """

    integrated_number: str | None = None
    my_number: MyNumber | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.integrated_number is not None:
            validate_integrated_number(self.integrated_number)
        if self.my_number is not None and not isinstance(self.my_number, MyNumber):
            raise InvalidRequest("my_number must be a jpki.mynumber.MyNumber")


@dataclass(frozen=True)
class CertificateView:
    serial: str
    issuer_key_id: str
    kind: str
    status: str
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_reason: str | None
    revoked_at: dt.datetime | None
    card_id: str
    integrated_number: str
    replaces_serial: str | None = None
    replaced_by_serial: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in self.__dict__.items()
        }


@dataclass(frozen=True)
class PersonView:
    integrated_number: str
    symbols: dict[str, str]
    certificates: tuple[CertificateView, ...]
    has_mynumber_index: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "integrated_number": self.integrated_number,
            "symbols": dict(self.symbols),
            "has_mynumber_index": self.has_mynumber_index,
            "certificates": [c.as_dict() for c in self.certificates],
        }


@dataclass(frozen=True)
class IssueResult:
    integrated_number: str
    card_id: str
    auth_serial: str
    sign_serial: str | None
    person_created: bool
    replayed: bool = False  # the same request_id was already done; nothing new written


@dataclass(frozen=True)
class RenewResult:
    integrated_number: str
    card_id: str
    old_auth_serial: str
    new_auth_serial: str
    old_sign_serial: str | None
    new_sign_serial: str | None
    replayed: bool = False


@dataclass(frozen=True)
class RevokeResult:
    integrated_number: str
    revoked: tuple[str, ...]  # serials revoked by this call
    already: tuple[str, ...]  # serials that were already revoked or superseded


@dataclass(frozen=True)
class LoginResolution:
    portal_symbol: str
    integrated_number: str
    serial: str
