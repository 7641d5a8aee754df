"""The test JPKI: CAs shaped like J-LIS's, card certificates, revocation, partitioned
CRLs, an OCSP responder and a small HTTP server for them."""

from __future__ import annotations

from simulators.pki.errors import (
    AlreadyRevokedError,
    InvalidBaseUrlError,
    InvalidPartitionError,
    IssuanceError,
    PkiError,
    PkiStateError,
    UnknownGenerationError,
    UnknownKindError,
    UnknownReasonError,
    UnknownSerialError,
    UnknownUrlError,
)
from simulators.pki.names import Kind, Partition
from simulators.pki.server import PkiServer, serve
from simulators.pki.testpki import (
    DEFAULT_BASE_URL,
    CaGeneration,
    CertificateStatus,
    TestPki,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AlreadyRevokedError",
    "CaGeneration",
    "CertificateStatus",
    "InvalidBaseUrlError",
    "InvalidPartitionError",
    "IssuanceError",
    "Kind",
    "Partition",
    "PkiError",
    "PkiServer",
    "PkiStateError",
    "TestPki",
    "UnknownGenerationError",
    "UnknownKindError",
    "UnknownReasonError",
    "UnknownSerialError",
    "UnknownUrlError",
    "serve",
]
