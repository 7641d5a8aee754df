"""Linkage registry: certificate serials linked to persons and their agency symbols.

A card flow, once the certificates are validated (chain, revocation) by jpki:

    store = open_store()                      # terminal.db; migrates to head
    registry = LinkageRegistry(store, mynumber_index=MyNumberIndex.from_config())
    symbols = symbols_for_issuance(core, resident_code)   # core: CoreClient / in-process
    result = registry.issue(PersonRef(), CertInfo.from_der(auth_der),
                            CertInfo.from_der(sign_der), symbols, operator,
                            request_id=counter_request_id)
    registry.renew(old_auth_serial, CertInfo.from_der(new_auth_der),
                   CertInfo.from_der(new_sign_der), operator)
    registry.resolve_login(auth.serial, auth.issuer_key_id).portal_symbol  # kiosk

Each call is one transaction together with its audit record; refusals raise a
`LinkageError` (or `StoreUnavailable`) whose `code` is stable.
"""

from terminal.linkage.errors import (
    ActiveCardExists,
    AlreadyRenewed,
    AmbiguousSerial,
    CertExpired,
    CertRevoked,
    ChainLoop,
    InvalidCertInfo,
    InvalidRequest,
    LinkageError,
    LinkConflict,
    NotLinked,
    StoreUnavailable,
    SymbolConflict,
    UnknownPerson,
    UnknownSerial,
)
from terminal.linkage.registry import LinkageRegistry
from terminal.linkage.secrets import MyNumberIndex
from terminal.linkage.types import (
    PORTAL_AGENCY,
    CertificateView,
    CertInfo,
    CertStatus,
    IssueResult,
    LinkedCertKind,
    LoginResolution,
    PersonRef,
    PersonView,
    RenewResult,
    RevocationReason,
    RevokeResult,
)

__all__ = [
    "PORTAL_AGENCY",
    "ActiveCardExists",
    "AlreadyRenewed",
    "AmbiguousSerial",
    "CertExpired",
    "CertInfo",
    "CertRevoked",
    "CertStatus",
    "CertificateView",
    "ChainLoop",
    "InvalidCertInfo",
    "InvalidRequest",
    "IssueResult",
    "LinkConflict",
    "LinkageError",
    "LinkageRegistry",
    "LinkedCertKind",
    "LoginResolution",
    "MyNumberIndex",
    "NotLinked",
    "PersonRef",
    "PersonView",
    "RenewResult",
    "RevocationReason",
    "RevokeResult",
    "StoreUnavailable",
    "SymbolConflict",
    "UnknownPerson",
    "UnknownSerial",
]
