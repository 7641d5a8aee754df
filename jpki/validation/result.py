"""What a successful validation established."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from jpki.constants import CertKind

RevocationStatus = Literal["good", "revoked", "not-checked"]


@dataclass(frozen=True)
class RevocationResult:
    """status "good" comes only from a verified, fresh CRL or OCSP answer ("revoked" is
    raised as CertificateRevokedError, so a ValidationResult never carries it).
    "not-checked" appears only under soft-fail or for a trust anchor itself, and
    `soft_fail_reason` then says why."""

    status: RevocationStatus
    source: Literal["crl", "ocsp"] | None
    checked_at: datetime
    this_update: datetime | None = None
    next_update: datetime | None = None
    reason: str | None = None
    revoked_at: datetime | None = None
    soft_fail_reason: str | None = None


@dataclass(frozen=True)
class ValidationResult:
    serial: int
    issuer_key_id: bytes
    subject: str
    kind: CertKind
    not_before: datetime
    not_after: datetime
    validated_at: datetime
    anchor: str  # label of the CA generation that verified the signature
    anchor_sha256: str
    revocation: RevocationResult

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issuer_key_id"] = self.issuer_key_id.hex()
        data["kind"] = self.kind.value
        data["serial_hex"] = f"{self.serial:x}"
        return data
